import { MAX_ID } from './dict-rules.js';

/** A random ID in [1, 2^53] (global scope: sessions, publications). */
export function randomId(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  const high = (words[0] as number) & 0x1fffff;
  return (high * 0x100000000 + (words[1] as number)) % MAX_ID + 1;
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
