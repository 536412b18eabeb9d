/**
 * What a scripted expectation compares an incoming message with:
 *
 * - a function: a predicate; the message matches when it returns `true` (a thrown error
 *   is a mismatch whose message is reported);
 * - a `RegExp`: the message is a string the pattern matches;
 * - a plain object: a partial object; the message must be an object having every listed
 *   key, each matching recursively (other keys are ignored);
 * - an array: an array of the same length whose elements match one by one;
 * - a `Uint8Array`: bytes equal to these;
 * - anything else: the same value (`Object.is`).
 */
export type Matcher = unknown;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Render a value for diffs: JSON where possible, bytes as hex, functions by name. */
export function formatValue(value: unknown): string {
  if (value instanceof Uint8Array) {
    const hex = Buffer.from(value.subarray(0, 64)).toString('hex');
    return `<${value.length} bytes ${hex}${value.length > 64 ? '…' : ''}>`;
  }
  if (typeof value === 'function') return `<predicate ${value.name || 'anonymous'}>`;
  if (value instanceof RegExp) return String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const text = JSON.stringify(value, (_key, inner: unknown) => {
      if (inner instanceof Uint8Array) return formatValue(inner);
      if (typeof inner === 'function' || inner instanceof RegExp) return formatValue(inner);
      return inner;
    });
    return text.length > 400 ? `${text.slice(0, 400)}…` : text;
  } catch {
    return String(value);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compare `actual` with `expected` (see {@link Matcher}).
 *
 * @param expected - the matcher
 * @param actual - the received value
 * @param path - where in the message this is, for the report (default `$`)
 * @returns `undefined` when it matches, otherwise a one-line description of the first mismatch
 */
export function findMismatch(expected: Matcher, actual: unknown, path = '$'): string | undefined {
  if (typeof expected === 'function') {
    try {
      return (expected as (value: unknown) => unknown)(actual) === true
        ? undefined
        : `${path}: ${formatValue(actual)} does not satisfy ${formatValue(expected)}`;
    } catch (error) {
      return `${path}: ${formatValue(expected)} threw: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (expected instanceof RegExp) {
    return typeof actual === 'string' && expected.test(actual) ? undefined : `${path}: ${formatValue(actual)} does not match ${String(expected)}`;
  }
  if (expected instanceof Uint8Array) {
    return actual instanceof Uint8Array && bytesEqual(expected, actual)
      ? undefined
      : `${path}: expected ${formatValue(expected)}, received ${formatValue(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, received ${formatValue(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} elements, received ${actual.length}`;
    for (let i = 0; i < expected.length; i += 1) {
      const mismatch = findMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }
  if (isPlainObject(expected)) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return `${path}: expected an object, received ${formatValue(actual)}`;
    }
    const record = actual as Record<string, unknown>;
    for (const [key, inner] of Object.entries(expected)) {
      const innerPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (!(key in record) && inner !== undefined) return `${innerPath}: missing (expected ${formatValue(inner)})`;
      const mismatch = findMismatch(inner, record[key], innerPath);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : `${path}: expected ${formatValue(expected)}, received ${formatValue(actual)}`;
}

/**
 * True when `actual` matches `expected` (see {@link Matcher}).
 *
 * @param expected - the matcher
 * @param actual - the received value
 */
export function matches(expected: Matcher, actual: unknown): boolean {
  return findMismatch(expected, actual) === undefined;
}
