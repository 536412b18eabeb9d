import { isValidUri } from '../uri.js';

/** The largest number of URIs remembered before the cache starts over. */
const CAPACITY = 64;

/** Remembers the last URIs that passed `isValidUri` (exact match): apps call and publish to a few URIs over and over. */
export class ValidUriCache {
  readonly #valid = new Set<string>();

  /** True when `uri` is a valid exact-match URI. */
  check(uri: string): boolean {
    if (this.#valid.has(uri)) return true;
    if (!isValidUri(uri)) return false;
    if (this.#valid.size >= CAPACITY) this.#valid.clear();
    this.#valid.add(uri);
    return true;
  }
}
