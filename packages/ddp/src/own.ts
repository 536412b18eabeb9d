/**
 * Safe property helpers. Field names arrive from the network, so `__proto__` must become
 * an ordinary own property instead of replacing an object's prototype.
 */

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** Whether `object` has its own property `key` (never consults the prototype chain). */
export function hasOwn(object: object, key: string): boolean {
  return hasOwnProperty.call(object, key);
}

/** Set `object[key] = value` as an own, enumerable, writable property, whatever `key` is. */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** A shallow copy of the own enumerable properties of `source`, safe for any key. */
export function copyOwn(source: object): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) setOwn(copy, key, (source as Record<string, unknown>)[key]);
  return copy;
}

/** Whether `value` is a non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
