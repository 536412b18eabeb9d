/**
 * Standard base64 (RFC 4648 §4: `+` and `/`, `=` padding) without Node's `Buffer`, so the
 * client stays browser-safe. EJSON's `$binary` uses exactly this alphabet.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
const INVALID = 255;

const ENCODE_TABLE = new Uint8Array(64);
const DECODE_TABLE = new Uint8Array(128).fill(INVALID);
for (let index = 0; index < 64; index += 1) {
  const code = ALPHABET.charCodeAt(index);
  ENCODE_TABLE[index] = code;
  DECODE_TABLE[code] = index;
}

const textDecoder = new TextDecoder('latin1');

/** Encode bytes as padded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  const length = bytes.length;
  const out = new Uint8Array(Math.ceil(length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = ENCODE_TABLE[n >>> 18] as number;
    out[o++] = ENCODE_TABLE[(n >>> 12) & 63] as number;
    out[o++] = ENCODE_TABLE[(n >>> 6) & 63] as number;
    out[o++] = ENCODE_TABLE[n & 63] as number;
  }
  const rest = length - i;
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out[o++] = ENCODE_TABLE[n >>> 18] as number;
    out[o++] = ENCODE_TABLE[(n >>> 12) & 63] as number;
    out[o++] = rest === 2 ? (ENCODE_TABLE[(n >>> 6) & 63] as number) : PAD;
    out[o++] = PAD;
  }
  return textDecoder.decode(out);
}

/**
 * Decode standard base64. Padding is optional; any other character, or a length that
 * cannot come from encoding, makes it return `undefined`.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === PAD) end -= 1;
  if (end > 0 && text.charCodeAt(end - 1) === PAD) end -= 1;
  if (end !== text.length && text.length % 4 !== 0) return undefined;
  if (end % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let o = 0;
  let bits = 0;
  let count = 0;
  for (let i = 0; i < end; i += 1) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (DECODE_TABLE[code] as number) : INVALID;
    if (value === INVALID) return undefined;
    bits = (bits << 6) | value;
    count += 1;
    if (count === 4) {
      out[o++] = bits >>> 16;
      out[o++] = (bits >>> 8) & 255;
      out[o++] = bits & 255;
      bits = 0;
      count = 0;
    }
  }
  if (count === 2) {
    out[o++] = bits >>> 4;
  } else if (count === 3) {
    out[o++] = bits >>> 10;
    out[o++] = (bits >>> 2) & 255;
  }
  return out;
}
