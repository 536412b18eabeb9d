import { MAX_ID } from './dict-rules.js';

/** Random words drawn in bulk: one `getRandomValues` call serves many IDs (one per publication). */
const pool = new Uint32Array(512);
let poolIndex = pool.length;

/** A random ID in [1, 2^53] (global scope: sessions, publications). */
export function randomId(): number {
  if (poolIndex >= pool.length) {
    crypto.getRandomValues(pool);
    poolIndex = 0;
  }
  const high = (pool[poolIndex] as number) & 0x1fffff;
  const low = pool[poolIndex + 1] as number;
  poolIndex += 2;
  return (high * 0x100000000 + low) % MAX_ID + 1;
}

/** Sequential IDs in [1, 2^53], wrapping around (session and router scope). */
export class IdGenerator {
  #last = 0;

  /** The next ID. */
  next(): number {
    this.#last = this.#last >= MAX_ID ? 1 : this.#last + 1;
    return this.#last;
  }
}
