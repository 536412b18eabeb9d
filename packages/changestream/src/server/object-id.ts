/**
 * Generates identifiers shaped like MongoDB ObjectIds (24 hexadecimal digits: seconds,
 * a per-process random value, a counter), unique within a process and ordered by time.
 */
const PROCESS_PART = Array.from(crypto.getRandomValues(new Uint8Array(5)), (byte) => byte.toString(16).padStart(2, '0')).join('');
let counter = crypto.getRandomValues(new Uint32Array(1))[0] as number;

/** A new ObjectId-like hexadecimal string. */
export function newObjectId(now = Date.now()): string {
  counter = (counter + 1) & 0xffffff;
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return seconds + PROCESS_PART + counter.toString(16).padStart(6, '0');
}
