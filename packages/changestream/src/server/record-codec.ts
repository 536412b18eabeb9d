import { Packr } from 'msgpackr';
import type { ChangeRecord } from './source.js';

/**
 * How change records are stored in a durable log: MessagePack (dates and bytes kept, faster
 * than JSON), without msgpackr's record extension so the files stay plain MessagePack.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Encode a stored value (a change record, or a log header). */
export function encodeStored(value: ChangeRecord | Record<string, unknown>): Uint8Array {
  return packr.pack(value);
}

/** Decode a stored value. */
export function decodeStored(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}
