/** How a registration or subscription URI is matched against call/publish URIs. */
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/;
const STRICT = /^([\da-z_]+\.)*([\da-z_]+)$/;
const LOOSE_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const STRICT_EMPTY = /^(([\da-z_]+\.)|\.)*([\da-z_]+)?$/;
const LOOSE_LAST_EMPTY = /^([^\s.#]+\.)*([^\s.#]*)$/;
const STRICT_LAST_EMPTY = /^([\da-z_]+\.)*([\da-z_]*)$/;

/**
 * True when `uri` is a valid WAMP URI for the given match policy: components separated by
 * dots, no whitespace or `#`. `prefix` allows an empty last component, `wildcard` allows
 * empty components anywhere. `strict` limits components to lower-case letters, digits and `_`.
 */
export function isValidUri(uri: unknown, match: MatchPolicy = 'exact', strict = false): uri is string {
  if (typeof uri !== 'string') return false;
  if (match === 'prefix') return (strict ? STRICT_LAST_EMPTY : LOOSE_LAST_EMPTY).test(uri);
  if (match === 'wildcard') return (strict ? STRICT_EMPTY : LOOSE_EMPTY).test(uri);
  return (strict ? STRICT : LOOSE).test(uri);
}

/** True when `uri` matches `pattern` under `match` (a wildcard's empty components match any one component). */
export function matchUri(pattern: string, match: MatchPolicy, uri: string): boolean {
  if (match === 'exact') return pattern === uri;
  if (match === 'prefix') return uri.startsWith(pattern);
  const want = pattern.split('.');
  const have = uri.split('.');
  if (want.length !== have.length) return false;
  for (let i = 0; i < want.length; i++) {
    const component = want[i] as string;
    if (component !== '' && component !== have[i]) return false;
  }
  return true;
}

/** True when `value` is a valid match policy name. */
export function isMatchPolicy(value: unknown): value is MatchPolicy {
  return value === 'exact' || value === 'prefix' || value === 'wildcard';
}
