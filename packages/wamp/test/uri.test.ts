import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidUri, matchUri } from '../src/uri.js';

const component = fc.stringMatching(/^[a-z0-9_]{1,6}$/);
const uri = fc.array(component, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));

describe('URIs', () => {
  it('validates loose and strict URIs per match policy', () => {
    expect(isValidUri('com.example.proc')).toBe(true);
    expect(isValidUri('com.Example.proc')).toBe(true);
    expect(isValidUri('com.Example.proc', 'exact', true)).toBe(false);
    expect(isValidUri('com..proc')).toBe(false);
    expect(isValidUri('com..proc', 'wildcard')).toBe(true);
    expect(isValidUri('com.example.', 'prefix')).toBe(true);
    expect(isValidUri('com.example.')).toBe(false);
    expect(isValidUri('com.ex ample')).toBe(false);
    expect(isValidUri('com.ex#ample')).toBe(false);
    expect(isValidUri('')).toBe(false);
    expect(isValidUri(42)).toBe(false);
  });

  it('exact matching is equality', () => {
    fc.assert(fc.property(uri, uri, (a, b) => {
      expect(matchUri(a, 'exact', b)).toBe(a === b);
    }));
  });

  it('a prefix matches every extension of itself', () => {
    fc.assert(fc.property(uri, uri, (a, b) => {
      expect(matchUri(a, 'prefix', `${a}.${b}`)).toBe(true);
      expect(matchUri(`${a}.${b}`, 'prefix', a)).toBe(false);
    }));
  });

  it('a wildcard matches any component where it is empty, and nothing of another length', () => {
    fc.assert(fc.property(fc.array(component, { minLength: 2, maxLength: 5 }), fc.nat(), component, (parts, at, other) => {
      const index = at % parts.length;
      const pattern = parts.map((p, i) => (i === index ? '' : p)).join('.');
      const replaced = parts.map((p, i) => (i === index ? other : p)).join('.');
      expect(matchUri(pattern, 'wildcard', replaced)).toBe(true);
      expect(matchUri(pattern, 'wildcard', `${replaced}.x`)).toBe(false);
    }));
  });
});
