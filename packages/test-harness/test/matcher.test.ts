import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findMismatch, formatValue, matches } from '../src/index.js';

describe('matcher', () => {
  it('matches partial objects, ignoring keys the matcher does not list', () => {
    expect(matches({ method: 'ping' }, { method: 'ping', id: 3 })).toBe(true);
    expect(findMismatch({ method: 'ping' }, { id: 3 })).toBe('$.method: missing (expected "ping")');
    expect(findMismatch({ a: { b: 1 } }, { a: { b: 2 } })).toBe('$.a.b: expected 1, received 2');
    expect(findMismatch({ 'weird-key': 1 }, {})).toBe('$["weird-key"]: missing (expected 1)');
    expect(matches({ gone: undefined }, {})).toBe(true);
  });

  it('matches arrays element by element with the same length', () => {
    expect(matches([1, { x: 2 }], [1, { x: 2, y: 3 }])).toBe(true);
    expect(findMismatch([1, 2], [1, 2, 3])).toBe('$: expected 2 elements, received 3');
    expect(findMismatch([1, 2], { 0: 1 })).toBe('$: expected an array, received {"0":1}');
  });

  it('supports predicates, regular expressions and bytes', () => {
    expect(matches((v: unknown) => typeof v === 'number' && v > 2, 3)).toBe(true);
    expect(findMismatch(function isBig(v: unknown) { return (v as number) > 10; }, 3)).toBe('$: 3 does not satisfy <predicate isBig>');
    expect(findMismatch(() => { throw new Error('nope'); }, 1)).toMatch(/threw: nope/);
    expect(matches(/^he/, 'hello')).toBe(true);
    expect(matches(/^he/, 42)).toBe(false);
    expect(matches(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(findMismatch(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe('$: expected <2 bytes 0102>, received <2 bytes 0103>');
  });

  it('compares other values exactly', () => {
    expect(matches(null, null)).toBe(true);
    expect(matches(null, undefined)).toBe(false);
    expect(matches(Number.NaN, Number.NaN)).toBe(true);
    expect(findMismatch('a', 'b')).toBe('$: expected "a", received "b"');
  });

  it('formats values for diffs', () => {
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue(10n)).toBe('10n');
    expect(formatValue({ re: /x/ })).toBe('{"re":"/x/"}');
    expect(formatValue('x'.repeat(500))).toHaveLength(401);
  });

  it('every JSON value matches itself, and a changed leaf is reported (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(findMismatch(value, structuredClone(value))).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), fc.string(), fc.integer(), (object, key, n) => {
        const changed = { ...object, [key]: (object[key] ?? n) + 1 };
        const expected = { ...object, [key]: object[key] ?? n };
        expect(findMismatch(expected, changed)).toBeDefined();
      }),
    );
  });
});
