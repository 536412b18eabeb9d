import { decodeBase64, encodeBase64 } from './base64.js';
import { EJSONError } from './errors.js';
import { hasOwn, isObject, setOwn } from './own.js';

/** A plain JSON value. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/**
 * A value of a user-defined EJSON type. Register a factory for its `typeName()` with
 * `EJSON.addType`; it travels as `{"$type": typeName(), "$value": toJSONValue()}`.
 */
export interface EJSONCustomValue {
  /** The registered name of this type. */
  typeName(): string;
  /** A plain JSON form the factory can rebuild the value from. */
  toJSONValue(): JSONValue;
  /** Optional equality used by `EJSON.equals` (otherwise the JSON forms are compared). */
  equals?(other: unknown): boolean;
  /** Optional deep copy used by `EJSON.clone` (otherwise the value is rebuilt from its JSON form). */
  clone?(): EJSONCustomValue;
}

/** Rebuilds a custom value from its `$value`. */
export type EJSONTypeFactory = (jsonValue: JSONValue) => EJSONCustomValue;

/** Any value EJSON can carry. */
export type EJSONValue =
  | null
  | boolean
  | number
  | string
  | Date
  | Uint8Array
  | RegExp
  | EJSONCustomValue
  | EJSONValue[]
  | { [key: string]: EJSONValue };

/** Nesting deeper than this is refused rather than risking the call stack. */
const MAX_DEPTH = 1000;
const REGEXP_FLAGS = /^[dgimsuvy]*$/;

function tooDeep(): EJSONError {
  return new EJSONError(`EJSON nesting is deeper than ${MAX_DEPTH} levels`);
}

function isCustomValue(value: object): value is EJSONCustomValue {
  const candidate = value as Partial<EJSONCustomValue>;
  return typeof candidate.typeName === 'function' && typeof candidate.toJSONValue === 'function';
}

/** Whether a plain object has exactly the shape of one of EJSON's special forms. */
function looksSpecial(object: Record<string, unknown>, keys: readonly string[]): boolean {
  if (keys.length === 1) {
    const key = keys[0];
    return key === '$date' || key === '$binary' || key === '$InfNaN' || key === '$escape';
  }
  if (keys.length === 2) {
    return (hasOwn(object, '$regexp') && hasOwn(object, '$flags')) || (hasOwn(object, '$type') && hasOwn(object, '$value'));
  }
  return false;
}

const NOT_SPECIAL = Symbol('not special');

/**
 * Meteor's Extended JSON: JSON plus dates, binary, regular expressions, non-finite numbers
 * and user-defined types, with `$escape` for plain objects that look like those forms.
 *
 * Conversions never mutate their input, never change an object's prototype (a field named
 * `__proto__` stays an ordinary field), and refuse malformed special forms with `EJSONError`.
 * Each instance has its own registry of custom types; `ejson` is the shared default.
 */
export class EJSON {
  readonly #types = new Map<string, EJSONTypeFactory>();

  /** Register a custom type. Throws when `name` is already registered. */
  addType(name: string, factory: EJSONTypeFactory): this {
    if (this.#types.has(name)) throw new EJSONError(`EJSON type '${name}' is already registered`);
    this.#types.set(name, factory);
    return this;
  }

  /** Whether a custom type called `name` is registered. */
  hasType(name: string): boolean {
    return this.#types.has(name);
  }

  /** Convert an EJSON value to plain JSON (dates become `{$date}`, and so on). */
  toJSONValue(value: unknown): JSONValue {
    return this.#encode(value, 0) as JSONValue;
  }

  /** Convert plain JSON back to EJSON values. Throws `EJSONError` on malformed special forms. */
  fromJSONValue(value: unknown): EJSONValue {
    return this.#decode(value, 0) as EJSONValue;
  }

  /** Serialise an EJSON value to a JSON string. */
  stringify(value: unknown): string {
    return JSON.stringify(this.#encode(value, 0));
  }

  /** Parse a JSON string into EJSON values. Throws `EJSONError` on bad JSON or malformed forms. */
  parse(text: string): EJSONValue {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new EJSONError(`invalid JSON: ${(error as Error).message}`);
    }
    return this.#decode(json, 0) as EJSONValue;
  }

  /** Deep equality over EJSON values; object key order does not matter. */
  equals(a: unknown, b: unknown): boolean {
    return this.#equals(a, b, 0);
  }

  /** A deep copy of an EJSON value. */
  clone<T>(value: T): T {
    return this.#clone(value, 0) as T;
  }

  #encode(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'number':
        if (Number.isFinite(value)) return value;
        return { $InfNaN: Number.isNaN(value) ? 0 : value > 0 ? 1 : -1 };
      case 'string':
      case 'boolean':
      case 'undefined':
        return value;
      case 'bigint':
        throw new EJSONError('EJSON cannot carry a bigint');
      case 'object':
        break;
      default:
        // Functions and symbols are dropped, as JSON.stringify drops them.
        return undefined;
    }
    if (value === null) return null;
    if (depth > MAX_DEPTH) throw tooDeep();
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let index = 0; index < value.length; index += 1) {
        const item: unknown = value[index];
        const encoded = this.#encode(item, depth + 1);
        if (encoded !== item) {
          copy ??= value.slice();
          copy[index] = encoded;
        }
      }
      return copy ?? value;
    }
    if (value instanceof Date) {
      const time = value.getTime();
      if (Number.isNaN(time)) throw new EJSONError('EJSON cannot carry an invalid Date');
      return { $date: time };
    }
    if (value instanceof Uint8Array) return { $binary: encodeBase64(value) };
    if (value instanceof RegExp) return { $regexp: value.source, $flags: value.flags };
    if (isCustomValue(value)) {
      const name = value.typeName();
      if (!this.#types.has(name)) throw new EJSONError(`EJSON type '${name}' is not registered`);
      return { $type: name, $value: value.toJSONValue() };
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    let copy: Record<string, unknown> | undefined;
    for (let index = 0; index < keys.length; index += 1) {
      const key = keys[index] as string;
      const item = object[key];
      const encoded = this.#encode(item, depth + 1);
      if (encoded !== item && copy === undefined) {
        copy = {};
        for (let before = 0; before < index; before += 1) {
          const previous = keys[before] as string;
          setOwn(copy, previous, object[previous]);
        }
      }
      if (copy !== undefined) setOwn(copy, key, encoded);
    }
    const result = copy ?? object;
    return looksSpecial(object, keys) ? { $escape: result } : result;
  }

  #decode(value: unknown, depth: number): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_DEPTH) throw tooDeep();
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let index = 0; index < value.length; index += 1) {
        const item: unknown = value[index];
        const decoded = this.#decode(item, depth + 1);
        if (decoded !== item) {
          copy ??= value.slice();
          copy[index] = decoded;
        }
      }
      return copy ?? value;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length > 0 && keys.length <= 2 && (keys[0] as string).charCodeAt(0) === 36 /* $ */) {
      const special = this.#decodeSpecial(object, keys, depth);
      if (special !== NOT_SPECIAL) return special;
    }
    return this.#decodeFields(object, keys, depth, false);
  }

  /** Decode every field of a plain object; `fresh` forces a new object (for `$escape`). */
  #decodeFields(object: Record<string, unknown>, keys: readonly string[], depth: number, fresh: boolean): unknown {
    let copy: Record<string, unknown> | undefined = fresh ? {} : undefined;
    for (let index = 0; index < keys.length; index += 1) {
      const key = keys[index] as string;
      const item = object[key];
      const decoded = this.#decode(item, depth + 1);
      if (decoded !== item && copy === undefined) {
        copy = {};
        for (let before = 0; before < index; before += 1) {
          const previous = keys[before] as string;
          setOwn(copy, previous, object[previous]);
        }
      }
      if (copy !== undefined) setOwn(copy, key, decoded);
    }
    return copy ?? object;
  }

  #decodeSpecial(object: Record<string, unknown>, keys: readonly string[], depth: number): unknown {
    if (keys.length === 1) {
      const key = keys[0];
      const inner = object[key as string];
      switch (key) {
        case '$date':
          if (typeof inner !== 'number' || !Number.isFinite(inner) || Math.abs(inner) > 8.64e15) {
            throw new EJSONError('$date must be a number of milliseconds within the Date range');
          }
          return new Date(inner);
        case '$binary': {
          const bytes = typeof inner === 'string' ? decodeBase64(inner) : undefined;
          if (bytes === undefined) throw new EJSONError('$binary must be a base64 string');
          return bytes;
        }
        case '$InfNaN':
          if (inner === 1) return Number.POSITIVE_INFINITY;
          if (inner === -1) return Number.NEGATIVE_INFINITY;
          if (inner === 0) return Number.NaN;
          throw new EJSONError('$InfNaN must be 1, -1 or 0');
        case '$escape':
          if (!isObject(inner)) throw new EJSONError('$escape must hold an object');
          return this.#decodeFields(inner, Object.keys(inner), depth + 1, true);
        default:
          return NOT_SPECIAL;
      }
    }
    if (hasOwn(object, '$regexp') && hasOwn(object, '$flags')) {
      const source = object['$regexp'];
      const flags = object['$flags'];
      if (typeof source !== 'string' || typeof flags !== 'string' || !REGEXP_FLAGS.test(flags)) {
        throw new EJSONError('$regexp and $flags must be strings with valid flags');
      }
      try {
        return new RegExp(source, flags);
      } catch {
        throw new EJSONError('$regexp is not a valid regular expression');
      }
    }
    if (hasOwn(object, '$type') && hasOwn(object, '$value')) {
      const name = object['$type'];
      if (typeof name !== 'string') throw new EJSONError('$type must be a string');
      const factory = this.#types.get(name);
      if (!factory) throw new EJSONError(`EJSON type '${name}' is not registered`);
      return factory(object['$value'] as JSONValue);
    }
    return NOT_SPECIAL;
  }

  #equals(a: unknown, b: unknown, depth: number): boolean {
    if (a === b) return true;
    if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (depth > MAX_DEPTH) throw tooDeep();
    if (a instanceof Date || b instanceof Date) {
      return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
    }
    if (a instanceof Uint8Array || b instanceof Uint8Array) {
      if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
      for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
      return true;
    }
    if (a instanceof RegExp || b instanceof RegExp) {
      return a instanceof RegExp && b instanceof RegExp && a.source === b.source && a.flags === b.flags;
    }
    if (isCustomValue(a) || isCustomValue(b)) {
      if (!isCustomValue(a) || !isCustomValue(b) || a.typeName() !== b.typeName()) return false;
      if (typeof a.equals === 'function') return a.equals(b);
      return this.#equals(a.toJSONValue(), b.toJSONValue(), depth + 1);
    }
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (let index = 0; index < a.length; index += 1) {
        if (!this.#equals(a[index], b[index], depth + 1)) return false;
      }
      return true;
    }
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    for (const key of keys) {
      if (!hasOwn(right, key) || !this.#equals(left[key], right[key], depth + 1)) return false;
    }
    return true;
  }

  #clone(value: unknown, depth: number): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_DEPTH) throw tooDeep();
    if (Array.isArray(value)) return value.map((item: unknown) => this.#clone(item, depth + 1));
    if (value instanceof Date) return new Date(value.getTime());
    if (value instanceof Uint8Array) return value.slice();
    if (value instanceof RegExp) return new RegExp(value.source, value.flags);
    if (isCustomValue(value)) {
      if (typeof value.clone === 'function') return value.clone();
      return this.#decode(this.#encode(value, depth), depth);
    }
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(copy, key, this.#clone((value as Record<string, unknown>)[key], depth + 1));
    return copy;
  }
}

/** The shared default EJSON instance (its custom-type registry is process-wide). */
export const ejson = new EJSON();
