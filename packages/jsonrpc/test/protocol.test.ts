import { describe, expect, it } from 'vitest';
import { ERROR_CODE_UNAVAILABLE } from '../src/codes.js';
import { MessageKind } from '../src/messages.js';
import { JSONRPCAutoDetect } from '../src/protocol-auto.js';
import { JSONRPCLoose } from '../src/protocol-loose.js';
import { JSONRPCv1 } from '../src/protocol-v1.js';
import { JSONRPCv2 } from '../src/protocol-v2.js';
import { RPCError } from '../src/rpc-error.js';

const decodeOne = (protocol: typeof JSONRPCv2, text: string) => {
  const decoded = protocol.decode(text);
  if (decoded.batch) throw new Error('expected one message');
  return decoded.message;
};

describe('JSONRPCv2', () => {
  it('round-trips requests, notifications, results and errors', () => {
    expect(decodeOne(JSONRPCv2, JSONRPCv2.encodeRequest(3, 'sum', [1, 2]))).toEqual({
      kind: MessageKind.Request,
      id: 3,
      method: 'sum',
      params: [1, 2],
    });
    expect(decodeOne(JSONRPCv2, JSONRPCv2.encodeRequest('a', 'ping'))).toEqual({
      kind: MessageKind.Request,
      id: 'a',
      method: 'ping',
      params: undefined,
    });
    expect(decodeOne(JSONRPCv2, JSONRPCv2.encodeNotification('tick', { n: 1 }))).toEqual({
      kind: MessageKind.Notification,
      method: 'tick',
      params: { n: 1 },
    });
    expect(decodeOne(JSONRPCv2, JSONRPCv2.encodeResult(null, undefined))).toEqual({
      kind: MessageKind.Result,
      id: null,
      result: null,
    });
    const error = decodeOne(JSONRPCv2, JSONRPCv2.encodeError(9, new RPCError(-1, 'bad', { why: 'x' })));
    expect(error.kind).toBe(MessageKind.Error);
    if (error.kind !== MessageKind.Error) return;
    expect(error.error).toBeInstanceOf(RPCError);
    expect(error.error.toJSON()).toEqual({ code: -1, message: 'bad', data: { why: 'x' } });
  });

  it('encodes the exact wire format', () => {
    expect(JSON.parse(JSONRPCv2.encodeRequest(1, 'm', []))).toEqual({ jsonrpc: '2.0', id: 1, method: 'm', params: [] });
    expect(JSON.parse(JSONRPCv2.encodeNotification('m'))).toEqual({ jsonrpc: '2.0', method: 'm' });
    expect(JSON.parse(JSONRPCv2.encodeError(null, RPCError.parseError()))).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    expect(JSONRPCv2.encodeBatch(['1', '2'])).toBe('[1,2]');
  });

  it('treats broken replies as bad responses (never answered)', () => {
    const cases = [
      '{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":1}',
      '{"jsonrpc":"2.0","error":{"code":"1","message":"m"},"id":1}',
      '{"jsonrpc":"2.0","error":{"code":1.5,"message":"m"},"id":1}',
      '{"result":1,"id":1}',
    ];
    for (const text of cases) expect(decodeOne(JSONRPCv2, text)).toMatchObject({ kind: MessageKind.BadResponse, id: 1 });
    expect(decodeOne(JSONRPCv2, '{"jsonrpc":"2.0","result":1}')).toMatchObject({ kind: MessageKind.BadResponse, id: null });
  });

  it('decodes a batch item by item', () => {
    const decoded = JSONRPCv2.decode('[{"jsonrpc":"2.0","method":"a","id":1},5,{"jsonrpc":"2.0","result":2,"id":3}]');
    expect(decoded.batch).toBe(true);
    if (!decoded.batch) return;
    expect(decoded.messages.map((message) => message.kind)).toEqual([
      MessageKind.Request,
      MessageKind.Invalid,
      MessageKind.Result,
    ]);
  });
});

describe('JSONRPCv1', () => {
  it('uses id null for notifications and sends both result and error', () => {
    expect(JSON.parse(JSONRPCv1.encodeNotification('n', [1]))).toEqual({ method: 'n', params: [1], id: null });
    expect(JSON.parse(JSONRPCv1.encodeRequest(2, 'r'))).toEqual({ method: 'r', params: [], id: 2 });
    expect(JSON.parse(JSONRPCv1.encodeResult(2, 'ok'))).toEqual({ result: 'ok', error: null, id: 2 });
    expect(JSON.parse(JSONRPCv1.encodeError(2, new RPCError(5, 'no')))).toEqual({
      result: null,
      error: { code: 5, message: 'no' },
      id: 2,
    });
    expect(decodeOne(JSONRPCv1, '{"method":"n","params":[],"id":null}')).toMatchObject({ kind: MessageKind.Notification });
    expect(decodeOne(JSONRPCv1, '{"method":"r","params":[1],"id":4}')).toMatchObject({ kind: MessageKind.Request, id: 4 });
  });

  it('refuses named params, batches and requests without id', () => {
    expect(() => JSONRPCv1.encodeRequest(1, 'x', { a: 1 })).toThrow(RPCError);
    expect(decodeOne(JSONRPCv1, '[{"method":"r","params":[],"id":1}]')).toMatchObject({ kind: MessageKind.Invalid });
    expect(decodeOne(JSONRPCv1, '{"method":"r","params":[]}')).toMatchObject({ kind: MessageKind.Invalid });
    expect(decodeOne(JSONRPCv1, '{"method":"r","params":{},"id":1}')).toMatchObject({ kind: MessageKind.Invalid, id: 1 });
  });

  it('reads error replies on a best-effort basis', () => {
    const cases: [string, number, string][] = [
      ['{"result":null,"error":"oops","id":1}', ERROR_CODE_UNAVAILABLE, 'oops'],
      ['{"result":null,"error":7,"id":1}', 7, 'no error message provided'],
      ['{"result":null,"error":{"code":3,"message":"m"},"id":1}', 3, 'm'],
    ];
    for (const [text, code, message] of cases) {
      const decoded = decodeOne(JSONRPCv1, text);
      expect(decoded.kind).toBe(MessageKind.Error);
      if (decoded.kind === MessageKind.Error) expect([decoded.error.code, decoded.error.message]).toEqual([code, message]);
    }
    expect(decodeOne(JSONRPCv1, '{"result":1,"id":1}')).toMatchObject({ kind: MessageKind.BadResponse });
    expect(decodeOne(JSONRPCv1, '{"result":1,"error":"e","id":1}')).toMatchObject({ kind: MessageKind.BadResponse });
  });
});

describe('JSONRPCLoose', () => {
  it('accepts messages without "jsonrpc" and sends strict 2.0', () => {
    expect(decodeOne(JSONRPCLoose, '{"method":"m","params":[1],"id":1}')).toMatchObject({ kind: MessageKind.Request });
    expect(decodeOne(JSONRPCLoose, '{"result":5,"error":null,"id":1}')).toMatchObject({ kind: MessageKind.Result, result: 5 });
    expect(decodeOne(JSONRPCLoose, '{"result":null,"error":"bad","id":1}')).toMatchObject({ kind: MessageKind.Error });
    expect(JSON.parse(JSONRPCLoose.encodeRequest(1, 'm'))).toEqual({ jsonrpc: '2.0', id: 1, method: 'm' });
  });
});

describe('JSONRPCAutoDetect', () => {
  it('obeys an explicit version, then the shape of the message', () => {
    expect(JSONRPCAutoDetect.detect({ jsonrpc: '2.0', method: 'm' })).toBe(JSONRPCv2);
    expect(JSONRPCAutoDetect.detect({ jsonrpc: '1.0', method: 'm' })).toBe(JSONRPCv1);
    expect(JSONRPCAutoDetect.detect({ result: 1, error: null, id: 1 })).toBe(JSONRPCv1);
    expect(JSONRPCAutoDetect.detect({ method: 'm', params: [1], id: 1 })).toBe(JSONRPCv1);
    expect(JSONRPCAutoDetect.detect({ method: 'm', params: { a: 1 }, id: 1 })).toBe(JSONRPCLoose);
    expect(JSONRPCAutoDetect.detect({ method: 'm' })).toBe(JSONRPCLoose);
    expect(JSONRPCAutoDetect.detect([{ jsonrpc: '2.0', method: 'm' }, { method: 'x' }])).toBe(JSONRPCv2);
    expect(JSONRPCAutoDetect.detect([{ method: 'm' }])).toBe(JSONRPCLoose);
    expect(JSONRPCAutoDetect.detect(5)).toBe(JSONRPCLoose);
  });
});
