/**
 * The on-disk layout of a room's update log: an 8-byte magic header, then records of
 * `[length u32 BE][crc32 u32 BE][payload]`. A crash can tear the last record; reading
 * stops at the first record that is short or fails its checksum, and reports where the
 * good part ends so the tail can be cut off.
 */
import { crc32 } from 'node:zlib';

/** First bytes of every log file (format version 1). */
export const LOG_MAGIC = new TextEncoder().encode('RTYLOG01');
/** Bytes before each record's payload. */
export const RECORD_HEADER_BYTES = 8;
/** Largest record accepted when reading (a larger length means a corrupt header). */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** Encode one record (header and payload in one buffer). */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload));
  record.set(payload, RECORD_HEADER_BYTES);
  return record;
}

/** What reading a log found. */
export interface LogContents {
  /** The payloads of every intact record, in order. */
  records: Uint8Array[];
  /** Offset just past the last intact record (where appends must continue). */
  validLength: number;
  /** True when bytes after `validLength` were dropped (a torn or corrupt tail). */
  tornTail: boolean;
  /** True when the file lacked a valid header (new, empty or not a log). */
  headerMissing: boolean;
}

/** Parse a whole log file. Never throws: damage shows up as `tornTail` / `headerMissing`. */
export function readLog(input: Uint8Array): LogContents {
  // A plain view, so records are plain Uint8Arrays even when read from a Buffer.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < LOG_MAGIC.length || !LOG_MAGIC.every((byte, index) => bytes[index] === byte)) {
    return { records: [], validLength: 0, tornTail: bytes.length > 0, headerMissing: true };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = LOG_MAGIC.length;
  while (offset + RECORD_HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(offset);
    const checksum = view.getUint32(offset + 4);
    const start = offset + RECORD_HEADER_BYTES;
    if (length > MAX_RECORD_BYTES || start + length > bytes.length) break;
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== checksum) break;
    records.push(payload);
    offset = start + length;
  }
  return { records, validLength: offset, tornTail: offset < bytes.length, headerMissing: false };
}
