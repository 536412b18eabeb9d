import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseVersion,
  decodeClientMessage,
  decodeServerMessage,
  EJSON,
  encodeClientMessage,
  encodeServerMessage,
  MalformedMessageError,
  MeteorRetryPolicy,
  type ClientMessage,
  type ServerMessage,
} from '../src/index.js';

const codec = new EJSON();
const id = fc.string({ minLength: 1, maxLength: 12 });
const ejsonLeaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }), fc.uint8Array({ maxLength: 8 }));
const ejsonValue = fc.oneof(ejsonLeaf, fc.array(ejsonLeaf, { maxLength: 3 }), fc.dictionary(fc.string(), ejsonLeaf, { maxKeys: 3 }));
const fields = fc.dictionary(
  fc.string().filter((key) => key !== '__proto__'),
  ejsonValue,
  { maxKeys: 4 },
);

const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({ msg: fc.constant('connect' as const), version: id, support: fc.array(id, { minLength: 1 }) }),
  fc.record({ msg: fc.constant('ping' as const), id }),
  fc.record({ msg: fc.constant('sub' as const), id, name: id, params: fc.array(ejsonValue, { maxLength: 3 }) }),
  fc.record({ msg: fc.constant('unsub' as const), id }),
  fc.record({ msg: fc.constant('method' as const), id, method: id, params: fc.array(ejsonValue, { maxLength: 3 }) }),
);

const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ msg: fc.constant('connected' as const), session: id }),
  fc.record({ msg: fc.constant('failed' as const), version: id }),
  fc.record({ msg: fc.constant('added' as const), collection: id, id, fields }),
  fc.record({ msg: fc.constant('changed' as const), collection: id, id, fields, cleared: fc.array(id, { minLength: 1 }) }),
  fc.record({ msg: fc.constant('removed' as const), collection: id, id }),
  fc.record({ msg: fc.constant('ready' as const), subs: fc.array(id) }),
  fc.record({ msg: fc.constant('nosub' as const), id, error: fc.record({ error: fc.oneof(id, fc.integer()), reason: id }) }),
  fc.record({ msg: fc.constant('result' as const), id, result: ejsonValue }),
  fc.record({ msg: fc.constant('updated' as const), methods: fc.array(id) }),
  fc.record({ msg: fc.constant('addedBefore' as const), collection: id, id, fields, before: fc.oneof(id, fc.constant(null)) }),
  fc.record({ msg: fc.constant('error' as const), reason: id, offendingMessage: fc.jsonValue({ maxDepth: 1 }).filter((value) => value !== null) }),
);

describe('DDP message codec', () => {
  it('decodeClientMessage(encodeClientMessage(m)) equals m', () => {
    fc.assert(
      fc.property(clientMessage, (message) => {
        expect(codec.equals(decodeClientMessage(encodeClientMessage(message, codec), codec), message)).toBe(true);
      }),
    );
  });

  it('decodeServerMessage(encodeServerMessage(m)) equals m', () => {
    fc.assert(
      fc.property(serverMessage, (message) => {
        expect(codec.equals(decodeServerMessage(encodeServerMessage(message, codec), codec), message)).toBe(true);
      }),
    );
  });

  it('never throws anything but MalformedMessageError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        for (const decode of [decodeClientMessage, decodeServerMessage]) {
          try {
            decode(text, codec);
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedMessageError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('describes hostile msg values without calling into them', () => {
    for (const decode of [decodeClientMessage, decodeServerMessage]) {
      expect(() => decode('{"msg":{"toString":""}}', codec)).toThrow(MalformedMessageError);
      expect(() => decode('{"msg":{"toString":""},"id":5}', codec)).toThrow(MalformedMessageError);
    }
  });

  it('decodes EJSON forms whose keys are written with \\u escapes', () => {
    const message = decodeServerMessage('{"msg":"added","collection":"c","id":"x","fields":{"d":{"\\u0024date":5}}}', codec);
    expect(message).toMatchObject({ fields: { d: new Date(5) } });
    expect(decodeClientMessage('{"msg":"method","id":"m","method":"f","params":[{"\\u0024InfNaN":1}]}', codec)).toMatchObject({
      params: [Infinity],
    });
  });

  it('drops unknown fields and ignores server messages without msg', () => {
    expect(decodeClientMessage('{"msg":"unsub","id":"x","extra":1}', codec)).toEqual({ msg: 'unsub', id: 'x' });
    expect(decodeServerMessage('{"server_id":"0"}', codec)).toBeUndefined();
  });
});

describe('version negotiation', () => {
  it('picks the client’s favourite shared version, else the server’s favourite', () => {
    expect(chooseVersion(['1', 'pre2', 'pre1'], ['1', 'pre2', 'pre1'])).toBe('1');
    expect(chooseVersion(['pre2', '1'], ['1', 'pre2'])).toBe('pre2');
    expect(chooseVersion(['1', 'pre2'], ['pre1'])).toBe('pre1');
  });
});

describe('MeteorRetryPolicy', () => {
  it('retries twice quickly, then backs off exponentially with fuzz, up to the cap', () => {
    const low = new MeteorRetryPolicy({ random: () => 0 });
    const high = new MeteorRetryPolicy({ random: () => 0.999_999 });
    expect([low.delayFor(1), low.delayFor(2)]).toEqual([10, 10]);
    expect(low.delayFor(3)).toBe(Math.round(1000 * 2.2 ** 2 * 0.75));
    expect(high.delayFor(3)).toBe(Math.round(1000 * 2.2 ** 2 * 1.249_999_5));
    expect(low.delayFor(50)).toBe(Math.round(300_000 * 0.75));
    expect(new MeteorRetryPolicy({ maxAttempts: 3 }).canRetry(4)).toBe(false);
  });
});
