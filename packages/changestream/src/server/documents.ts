import type { Document, UpdateDescription } from '../types.js';

/** True for a plain object (not an array, date or byte array). */
export function isPlainObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** Structural equality for document values (dates by time, bytes by content). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((byte, index) => byte === b[index]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => valuesEqual(item, b[index]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key, index) => key === keysB[index] && valuesEqual((a as Document)[key], (b as Document)[key]));
}

/** Deep copy of a document value (dates and bytes copied too). */
export function cloneValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return value.slice() as T;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  const copy: Document = {};
  for (const key of Object.keys(value)) copy[key] = cloneValue((value as Document)[key]);
  return copy as T;
}

/**
 * Describe how `after` differs from `before` as MongoDB does: changed fields by dotted path
 * (descending into sub-documents and same-length arrays), removed fields, and arrays that were
 * only shortened as `truncatedArrays`.
 */
export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const updatedFields: Document = {};
  const removedFields: string[] = [];
  const truncatedArrays: { field: string; newSize: number }[] = [];
  const walk = (old: Document, next: Document, prefix: string): void => {
    for (const key of Object.keys(old)) if (!(key in next)) removedFields.push(prefix + key);
    for (const key of Object.keys(next)) {
      const path = prefix + key;
      const previous = old[key];
      const current = next[key];
      if (key in old && valuesEqual(previous, current)) continue;
      if (isPlainObject(previous) && isPlainObject(current)) walk(previous, current, path + '.');
      else if (Array.isArray(previous) && Array.isArray(current) && current.length > 0) {
        if (current.length < previous.length) truncatedArrays.push({ field: path, newSize: current.length });
        const common = Math.min(previous.length, current.length);
        const changed: number[] = [];
        for (let index = 0; index < common; index += 1) if (!valuesEqual(previous[index], current[index])) changed.push(index);
        if (changed.length > common / 2 && common > 1) updatedFields[path] = current;
        else {
          for (const index of changed) updatedFields[`${path}.${index}`] = current[index];
          for (let index = common; index < current.length; index += 1) updatedFields[`${path}.${index}`] = current[index];
        }
      } else updatedFields[path] = current;
    }
  };
  walk(before, after, '');
  return { updatedFields, removedFields, truncatedArrays };
}
