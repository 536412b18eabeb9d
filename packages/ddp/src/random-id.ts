/** Letters and digits: ids stay safe in URLs, logs and Mongo-style `_id`s. */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Bytes at or above this would bias `byte % 62`, so they are skipped. */
const UNBIASED_LIMIT = 248;
const POOL_SIZE = 1024;

let pool = new Uint8Array(0);
let poolIndex = 0;

function nextByte(): number {
  if (poolIndex >= pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(POOL_SIZE));
    poolIndex = 0;
  }
  return pool[poolIndex++] as number;
}

/**
 * A random identifier from the platform's cryptographic generator (`crypto.getRandomValues`,
 * in browsers and Node). 17 characters carry about 101 bits, as Meteor's `Random.id()` does.
 */
export function randomId(length = 17): string {
  let id = '';
  while (id.length < length) {
    const byte = nextByte();
    if (byte < UNBIASED_LIMIT) id += ALPHABET[byte % 62];
  }
  return id;
}
