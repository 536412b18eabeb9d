import { ProtocolError } from '@rt/transport';

/**
 * JSON that keeps dates and binary data: a `Date` travels as `{"$date": "<ISO 8601>"}`
 * and a `Uint8Array` as `{"$binary": "<base64>"}`; everything else is plain JSON.
 * Objects are converted copy-on-write, so values without dates or bytes are not copied.
 */

const DATE_TAG = '$date';
const BINARY_TAG = '$binary';

function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(text);
}

function base64ToBytes(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let index = 0; index < raw.length; index += 1) bytes[index] = raw.charCodeAt(index);
  return bytes;
}

/** Replace dates and byte arrays by their tagged forms. Returns the input when nothing changes. */
export function toWireValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { [DATE_TAG]: Number.isNaN(value.getTime()) ? null : value.toISOString() };
  if (value instanceof Uint8Array) return { [BINARY_TAG]: bytesToBase64(value) };
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const converted = toWireValue(item);
      if (converted !== item) {
        copy ??= value.slice();
        copy[index] = converted;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    const converted = toWireValue(item);
    if (converted !== item) {
      copy ??= { ...record };
      copy[key] = converted;
    }
  }
  return copy ?? value;
}

/** Turn tagged forms back into `Date` and `Uint8Array`, in place. */
export function fromWireValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) value[index] = fromWireValue(value[index]);
    return value;
  }
  const record = value as Record<string, unknown>;
  let keys = 0;
  for (const key in record) {
    keys += 1;
    record[key] = fromWireValue(record[key]);
  }
  if (keys === 1) {
    const date = record[DATE_TAG];
    if (typeof date === 'string' || (date === null && DATE_TAG in record)) return new Date(date ?? Number.NaN);
    const binary = record[BINARY_TAG];
    if (typeof binary === 'string') {
      try {
        return base64ToBytes(binary);
      } catch (error) {
        throw new ProtocolError('invalid $binary value', { cause: error });
      }
    }
  }
  return record;
}

/** Serialise a value as wire JSON text. */
export function stringifyWire(value: unknown): string {
  return JSON.stringify(toWireValue(value));
}

/** Parse wire JSON text; throws `ProtocolError` on malformed input. */
export function parseWire(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('malformed JSON message', { cause: error });
  }
  return fromWireValue(parsed);
}
