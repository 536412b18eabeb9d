import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EJSON, EJSONError, type EJSONCustomValue, type JSONValue } from '../src/index.js';
import { decodeBase64, encodeBase64 } from '../src/base64.js';

class Point implements EJSONCustomValue {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  typeName(): string {
    return 'Point';
  }
  toJSONValue(): JSONValue {
    return { x: this.x, y: this.y };
  }
  equals(other: unknown): boolean {
    return other instanceof Point && other.x === this.x && other.y === this.y;
  }
}

function codecWithPoint(): EJSON {
  return new EJSON().addType('Point', (value) => {
    const { x, y } = value as { x: number; y: number };
    return new Point(x, y);
  });
}

/** Arbitrary EJSON values, including plain objects that look like EJSON's special forms. */
function ejsonValue(): fc.Arbitrary<unknown> {
  const specialKey = fc.constantFrom('$date', '$binary', '$escape', '$InfNaN', '$type', '$value', '$regexp', '$flags', '__proto__', 'constructor');
  const key = fc.oneof(fc.string(), specialKey);
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string(),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom(/a+b/g, /^x.y$/imsu, new RegExp('[/]', 'y')),
    fc.record({ x: fc.integer(), y: fc.integer() }).map(({ x, y }) => new Point(x, y)),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  }));
  return value;
}

describe('EJSON round trip', () => {
  it('parse(stringify(v)) equals v for arbitrary values', () => {
    const codec = codecWithPoint();
    fc.assert(
      fc.property(ejsonValue(), (value) => {
        const text = codec.stringify(value);
        const back = codec.parse(text);
        expect(codec.equals(back, value)).toBe(true);
        // The wire form is plain JSON: it survives a second pass unchanged.
        expect(codec.stringify(back)).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  it('fromJSONValue(toJSONValue(v)) equals v and never mutates the input', () => {
    const codec = codecWithPoint();
    fc.assert(
      fc.property(ejsonValue(), (value) => {
        const snapshot = codec.clone(value);
        const json = codec.toJSONValue(value);
        const jsonText = JSON.stringify(json);
        const back = codec.fromJSONValue(json);
        expect(codec.equals(back, value)).toBe(true);
        expect(codec.equals(value, snapshot)).toBe(true);
        expect(JSON.stringify(json)).toBe(jsonText);
      }),
      { numRuns: 300 },
    );
  });

  it('equals is reflexive on clones and distinguishes a changed leaf', () => {
    const codec = codecWithPoint();
    fc.assert(
      fc.property(ejsonValue(), (value) => {
        expect(codec.equals(codec.clone(value), value)).toBe(true);
        expect(codec.equals({ wrap: value }, { wrap: value, extra: 1 })).toBe(false);
      }),
    );
  });
});

describe('EJSON wire forms', () => {
  const codec = codecWithPoint();

  it('encodes the special types as DDP.md describes', () => {
    expect(codec.stringify(new Date(10_000))).toBe('{"$date":10000}');
    expect(codec.stringify(new Uint8Array([1, 2, 3, 250]))).toBe('{"$binary":"AQID+g=="}');
    expect(codec.stringify([Infinity, -Infinity, NaN])).toBe('[{"$InfNaN":1},{"$InfNaN":-1},{"$InfNaN":0}]');
    expect(codec.stringify(/a\/b/gi)).toBe('{"$regexp":"a\\\\/b","$flags":"gi"}');
    expect(codec.stringify(new Point(1, 2))).toBe('{"$type":"Point","$value":{"x":1,"y":2}}');
  });

  it('escapes plain objects that look like special forms, one level down', () => {
    expect(codec.stringify({ $date: 10_000 })).toBe('{"$escape":{"$date":10000}}');
    expect(codec.stringify({ $date: new Date(32_491) })).toBe('{"$escape":{"$date":{"$date":32491}}}');
    const back = codec.parse('{"$escape":{"$date":{"$date":32491}}}') as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['$date']);
    expect(back['$date']).toEqual(new Date(32_491));
  });

  it('keeps objects with extra keys plain', () => {
    const value = codec.parse('{"$date":1,"other":2}');
    expect(value).toEqual({ $date: 1, other: 2 });
  });

  it('refuses malformed special forms with EJSONError', () => {
    for (const text of [
      '{"$date":"yesterday"}',
      '{"$date":1e300}',
      '{"$binary":"not base64!"}',
      '{"$binary":"abcde"}',
      '{"$binary":3}',
      '{"$InfNaN":2}',
      '{"$escape":[1]}',
      '{"$regexp":"(","$flags":""}',
      '{"$regexp":"a","$flags":"q"}',
      '{"$type":"Unknown","$value":1}',
      '{"$type":5,"$value":1}',
      'not json',
    ]) {
      expect(() => codec.parse(text), text).toThrow(EJSONError);
    }
  });

  it('refuses values EJSON cannot carry', () => {
    expect(() => codec.stringify(new Date(Number.NaN))).toThrow(EJSONError);
    expect(() => codec.stringify(10n)).toThrow(EJSONError);
    expect(() => new EJSON().stringify(new Point(1, 2))).toThrow(/not registered/);
    expect(() => codec.addType('Point', () => new Point(0, 0))).toThrow(EJSONError);
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(() => codec.parse(deep)).toThrow(/deeper/);
  });
});

describe('EJSON and prototypes', () => {
  const codec = new EJSON();

  it('keeps __proto__ and constructor as ordinary fields', () => {
    const value = codec.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"d":{"$date":5}}') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor', 'd']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('keeps __proto__ own through $escape and clone', () => {
    const escaped = codec.parse('{"$escape":{"__proto__":{"$date":1}}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(escaped)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(escaped, '__proto__')?.value).toEqual(new Date(1));
    const cloned = codec.clone(escaped);
    expect(Object.getPrototypeOf(cloned)).toBe(Object.prototype);
    expect(codec.equals(cloned, escaped)).toBe(true);
  });
});

describe('base64', () => {
  it('round-trips arbitrary bytes and matches the platform encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
        expect(decodeBase64(text.replace(/=+$/, ''))).toEqual(bytes);
      }),
    );
  });
});
