import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCodec, msgpackCodec, ProtocolError } from '../src/index.js';

// JSON cannot carry -0, undefined or non-finite numbers; compare through a JSON round trip.
const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);

describe('jsonCodec', () => {
  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
      }),
    );
  });

  it('decodes UTF-8 bytes as well as strings', () => {
    expect(jsonCodec.decode(new TextEncoder().encode('{"a":"é"}'))).toEqual({ a: 'é' });
  });

  it('rejects malformed input with ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          jsonCodec.decode(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
    expect(() => jsonCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow(ProtocolError);
  });
});

// msgpackr renames a `__proto__` key to `__proto_` on decode so it can never reach a prototype.
const hasProtoKey = (value: unknown): boolean => JSON.stringify(value)?.includes('"__proto__"') ?? false;

describe('msgpackCodec', () => {
  it('round-trips any JSON value and binary data', () => {
    fc.assert(
      fc.property(jsonValue.filter((value) => !hasProtoKey(value)), (value) => {
        expect(msgpackCodec.decode(msgpackCodec.encode(value))).toEqual(value);
      }),
    );
    const bytes = new Uint8Array([1, 2, 3]);
    expect(Array.from((msgpackCodec.decode(msgpackCodec.encode({ bytes })) as { bytes: Uint8Array }).bytes)).toEqual([1, 2, 3]);
  });

  it('never lets a __proto__ key reach an object prototype', () => {
    const decoded = msgpackCodec.decode(msgpackCodec.encode(JSON.parse('{"__proto__":{"polluted":true}}'))) as object;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(decoded).toEqual({ __proto_: { polluted: true } });
  });

  it('rejects text and truncated input with ProtocolError', () => {
    expect(() => msgpackCodec.decode('text')).toThrow(ProtocolError);
    const encoded = msgpackCodec.encode({ key: 'value', list: [1, 2, 3] }) as Uint8Array;
    expect(() => msgpackCodec.decode(encoded.subarray(0, encoded.length - 2))).toThrow(ProtocolError);
  });

  it('never throws anything but ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          msgpackCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
