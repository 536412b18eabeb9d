import fc from 'fast-check';
import { ProtocolError } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  RequestError,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  errorReply,
  parseWire,
  stringifyWire,
  type Request,
} from '../src/index.js';

const token = { _data: '0'.repeat(16) + '0000000a' + '00' };

function requestError(message: string | Uint8Array): RequestError {
  try {
    decodeRequest(message);
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    return error as RequestError;
  }
  throw new Error('expected decodeRequest to throw');
}

describe('wire JSON', () => {
  it('keeps dates and bytes', () => {
    const value = { when: new Date(1_700_000_000_123), bytes: new Uint8Array([0, 1, 255]), nested: [{ at: new Date(0) }], plain: 'x' };
    const text = stringifyWire(value);
    expect(text).toContain('"$date"');
    expect(parseWire(text)).toEqual(value);
  });

  it('leaves values without dates or bytes unchanged', () => {
    const value = { a: [1, { b: 'c' }] };
    expect(JSON.parse(stringifyWire(value))).toEqual(value);
  });

  it('round-trips arbitrary JSON-like values with dates and bytes', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => new Uint8Array(bytes)),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string().filter((key) => !key.startsWith('$') && key !== '__proto__'), tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(
      fc.property(value, (input) => {
        expect(parseWire(stringifyWire(input))).toEqual(input);
      }),
    );
  });

  it('rejects malformed JSON with a ProtocolError', () => {
    expect(() => parseWire('{nope')).toThrow(ProtocolError);
  });
});

describe('requests', () => {
  it('round-trips every request type', () => {
    const requests: Request[] = [
      { op: 'watch', id: 1, ns: { db: 'app', coll: 'items' }, pipeline: [{ $match: { operationType: 'insert' } }], options: { fullDocument: 'updateLookup', resumeAfter: token, batchSize: 5 } },
      { op: 'getMore', id: 2, cursorId: 7, batchSize: 100, maxAwaitTimeMS: 250 },
      { op: 'killCursors', id: 3, cursorIds: [7, 8] },
    ];
    for (const request of requests) expect(decodeRequest(encodeRequest(request))).toEqual(request);
  });

  it('answers malformed frames with FailedToParse and no id', () => {
    for (const frame of ['not json', '[1,2]', '{"op":"watch"}', new Uint8Array([0xff, 0xfe])]) {
      const error = requestError(frame);
      expect(error.requestId).toBeNull();
      expect(error.errorCode).toBe(ErrorCode.FailedToParse);
    }
  });

  it('names unknown commands CommandNotFound, keeping the id', () => {
    const error = requestError('{"op":"dance","id":4}');
    expect(error.requestId).toBe(4);
    expect(error.errorCode).toBe(ErrorCode.CommandNotFound);
  });

  it.each([
    [{ fullDocument: 'sometimes' }, ErrorCode.BadValue],
    [{ fullDocumentBeforeChange: true }, ErrorCode.BadValue],
    [{ resumeAfter: { _data: 'zz' } }, ErrorCode.InvalidResumeToken],
    [{ resumeAfter: token, startAfter: token }, ErrorCode.BadValue],
    [{ startAtOperationTime: 5 }, ErrorCode.TypeMismatch],
    [{ batchSize: -1 }, ErrorCode.BadValue],
    [{ showExpandedEvents: 'yes' }, ErrorCode.TypeMismatch],
    [{ colour: 'blue' }, ErrorCode.FailedToParse],
  ])('refuses bad watch options %j with code %i', (options, code) => {
    const error = requestError(JSON.stringify({ op: 'watch', id: 9, ns: {}, pipeline: [], options }));
    expect(error.requestId).toBe(9);
    expect(error.errorCode).toBe(code);
  });

  it('refuses a pipeline that is not an array of documents, and bad namespaces', () => {
    expect(requestError('{"op":"watch","id":1,"pipeline":{"$match":{}}}').errorCode).toBe(ErrorCode.TypeMismatch);
    expect(requestError('{"op":"watch","id":1,"ns":{"coll":"x"}}').errorCode).toBe(ErrorCode.BadValue);
    expect(requestError('{"op":"getMore","id":1,"cursorId":0}').errorCode).toBe(ErrorCode.TypeMismatch);
    expect(requestError('{"op":"killCursors","id":1,"cursorIds":["a"]}').errorCode).toBe(ErrorCode.TypeMismatch);
  });

  it('never throws anything but RequestError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array().map((bytes) => new Uint8Array(bytes))), (input) => {
        try {
          decodeRequest(input);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestError);
        }
      }),
    );
  });
});

describe('replies', () => {
  it('round-trips cursor and error replies', () => {
    const ok = {
      op: 'reply' as const,
      id: 1,
      ok: 1 as const,
      cursor: { id: 3, ns: 'app.items', nextBatch: [{ _id: token, wallTime: new Date(5) }], postBatchResumeToken: token },
      operationTime: { t: 1, i: 2 },
    };
    expect(decodeReply(encodeReply(ok))).toEqual(ok);
    const failure = errorReply(2, ErrorCode.ChangeStreamHistoryLost, 'gone', ['x']);
    expect(decodeReply(encodeReply(failure))).toEqual({ ...failure, codeName: 'ChangeStreamHistoryLost' });
  });

  it('rejects replies that are not replies', () => {
    for (const frame of ['{}', '{"op":"reply","id":1,"ok":1,"cursor":{"id":1}}', '{"op":"reply","id":"x","ok":1}', 'nope']) {
      expect(() => decodeReply(frame)).toThrow(ProtocolError);
    }
  });
});
