import fc from 'fast-check';
import { msgpackCodec } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { WampProtocolError } from '../src/errors.js';
import { decodeMessage, encodeMessage } from '../src/message-codec.js';
import { MessageType } from '../src/message-types.js';
import type { WampMessage } from '../src/messages.js';
import { MsgpackEncoder } from '../src/msgpack-encoder.js';
import { serializers } from '../src/serializer.js';

const id = fc.integer({ min: 1, max: 2 ** 53 });
const uri = fc.array(fc.stringMatching(/^[a-z0-9_]{1,8}$/), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
/** JSON-like values (no -0: JSON cannot carry it), plus binary. */
const leaf = fc.oneof(
  fc.string(), fc.boolean(), fc.constant(null), fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.uint8Array({ maxLength: 40 }),
);
/** Keys other than `__proto__`, which the binary decoders rename on purpose (tested below). */
const key = fc.string().filter((k) => k !== '__proto__');
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
})).value;
const args = fc.option(fc.array(value, { maxLength: 5 }), { nil: undefined });
const kwargs = fc.option(fc.dictionary(key, value, { maxKeys: 4 }), { nil: undefined });

const message: fc.Arbitrary<WampMessage> = fc.oneof(
  fc.record({ type: fc.constant(MessageType.CALL), requestId: id, options: fc.constant({}), procedure: uri, args, kwargs }),
  fc.record({ type: fc.constant(MessageType.RESULT), requestId: id, details: fc.record({ progress: fc.boolean() }), args, kwargs }),
  fc.record({ type: fc.constant(MessageType.PUBLISH), requestId: id, options: fc.record({ acknowledge: fc.boolean(), exclude: fc.array(id) }), topic: uri, args, kwargs }),
  fc.record({ type: fc.constant(MessageType.EVENT), subscriptionId: id, publicationId: id, details: fc.record({ publisher: id }), args, kwargs }),
  fc.record({ type: fc.constant(MessageType.ERROR), requestType: fc.constant(MessageType.CALL), requestId: id, details: fc.constant({}), error: uri, args, kwargs }),
  fc.record({ type: fc.constant(MessageType.INVOCATION), requestId: id, registrationId: id, details: fc.constant({}), args, kwargs }),
  fc.record({ type: fc.constant(MessageType.YIELD), requestId: id, options: fc.constant({}), args, kwargs }),
  fc.record({ type: fc.constant(MessageType.REGISTERED), requestId: id, registrationId: id }),
  fc.record({ type: fc.constant(MessageType.HELLO), realm: uri, details: fc.record({ roles: fc.constant({ caller: {} }), authid: fc.string() }) }),
  fc.record({ type: fc.constant(MessageType.GOODBYE), details: fc.constant({}), reason: uri }),
);

/** What a message looks like after a round trip: args are filled in when only kwargs were set. */
function normalized(m: WampMessage): WampMessage {
  const copy = { ...m } as WampMessage & { args?: unknown[]; kwargs?: unknown };
  if (copy.kwargs !== undefined && copy.args === undefined) copy.args = [];
  if (copy.args === undefined) delete copy.args;
  if (copy.kwargs === undefined) delete copy.kwargs;
  return copy;
}

describe('codec properties', () => {
  it.each(Object.values(serializers))('$name: deserialize(serialize(m)) equals m', (serializer) => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = serializer.deserialize(serializer.serialize(m));
        expect(JSON.parse(JSON.stringify(decoded, binaryAware))).toEqual(JSON.parse(JSON.stringify(normalized(m), binaryAware)));
      }),
      { numRuns: 300 },
    );
  });

  it.each(Object.values(serializers))('$name: a __proto__ key never reaches a prototype', (serializer) => {
    const kwargs = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const call: WampMessage = { type: MessageType.CALL, requestId: 1, options: {}, procedure: 'com.example.p', args: [], kwargs };
    const decoded = serializer.deserialize(serializer.serialize(call)) as { kwargs?: object };
    expect(Object.getPrototypeOf(decoded.kwargs)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    // JSON keeps the key as an own property; msgpackr and cbor-x rename it to `__proto_`.
    expect(Object.keys(decoded.kwargs ?? {})).toEqual([serializer.name === 'json' ? '__proto__' : '__proto_']);
  });

  it('encodeMessage and decodeMessage are inverse on valid lists', () => {
    fc.assert(fc.property(message, (m) => {
      expect(encodeMessage(decodeMessage(encodeMessage(m)))).toEqual(encodeMessage(m));
    }), { numRuns: 300 });
  });

  it('the MessagePack encoder writes what msgpackr reads, with integers kept integers', () => {
    const encoder = new MsgpackEncoder();
    fc.assert(fc.property(value, (v) => {
      const decoded = msgpackCodec.decode(encoder.encode(v));
      expect(JSON.stringify(decoded, binaryAware)).toBe(JSON.stringify(v, binaryAware));
    }), { numRuns: 500 });
  });

  it('decodeMessage rejects arbitrary garbage only with WampProtocolError', () => {
    const garbage = fc.oneof(fc.anything(), fc.tuple(fc.integer({ min: 0, max: 400 }), fc.anything(), fc.anything(), fc.anything()).map((t) => [...t]));
    fc.assert(fc.property(garbage, (raw) => {
      try {
        decodeMessage(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(WampProtocolError);
      }
    }), { numRuns: 1000 });
  });

  it.each(Object.values(serializers))('$name: deserialize rejects random bytes only with WampProtocolError', (serializer) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const frame = serializer.binary ? bytes : new TextDecoder().decode(bytes);
      try {
        serializer.deserialize(frame);
      } catch (error) {
        expect(error).toBeInstanceOf(WampProtocolError);
      }
    }), { numRuns: 1000 });
  });
});

function binaryAware(_key: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { binary: [...v] } : v;
}
