import { matchUri, type MatchPolicy } from '../uri.js';

/** Something registered or subscribed under a URI and match policy. */
export interface UriEntry {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
}

/**
 * Registrations or subscriptions indexed for lookup: exact URIs in a map, prefix and wildcard
 * patterns in lists.
 */
export class UriTable<T extends UriEntry> {
  readonly #exact = new Map<string, T>();
  readonly #prefix: T[] = [];
  readonly #wildcard: T[] = [];
  /** Every entry by id. */
  readonly byId = new Map<number, T>();

  /** The entry with exactly this URI and policy. */
  get(uri: string, match: MatchPolicy): T | undefined {
    if (match === 'exact') return this.#exact.get(uri);
    return (match === 'prefix' ? this.#prefix : this.#wildcard).find((entry) => entry.uri === uri);
  }

  /** True when an entry is registered under exactly `uri` with the `exact` policy. */
  hasExact(uri: string): boolean {
    return this.#exact.has(uri);
  }

  /** Index a new entry. */
  add(entry: T): void {
    this.byId.set(entry.id, entry);
    if (entry.match === 'exact') this.#exact.set(entry.uri, entry);
    else (entry.match === 'prefix' ? this.#prefix : this.#wildcard).push(entry);
  }

  /** Remove an entry. */
  delete(entry: T): void {
    this.byId.delete(entry.id);
    if (entry.match === 'exact') this.#exact.delete(entry.uri);
    else {
      const list = entry.match === 'prefix' ? this.#prefix : this.#wildcard;
      const index = list.indexOf(entry);
      if (index >= 0) list.splice(index, 1);
    }
  }

  /** True when some entry matches `uri`: a cheap test before building something for the matches. */
  hasMatch(uri: string): boolean {
    return this.#exact.has(uri)
      || this.#prefix.some((entry) => matchUri(entry.uri, 'prefix', uri))
      || this.#wildcard.some((entry) => matchUri(entry.uri, 'wildcard', uri));
  }

  /** Every entry matching `uri` (for the broker). */
  matching(uri: string): T[] {
    const out: T[] = [];
    const exact = this.#exact.get(uri);
    if (exact !== undefined) out.push(exact);
    for (const entry of this.#prefix) if (matchUri(entry.uri, 'prefix', uri)) out.push(entry);
    for (const entry of this.#wildcard) if (matchUri(entry.uri, 'wildcard', uri)) out.push(entry);
    return out;
  }

  /**
   * The single best match (for the dealer): exact first, then the longest prefix, then the
   * wildcard with the most non-empty components.
   */
  best(uri: string): T | undefined {
    const exact = this.#exact.get(uri);
    if (exact !== undefined) return exact;
    let best: T | undefined;
    for (const entry of this.#prefix) {
      if (matchUri(entry.uri, 'prefix', uri) && (best === undefined || entry.uri.length > best.uri.length)) best = entry;
    }
    if (best !== undefined) return best;
    let bestScore = -1;
    for (const entry of this.#wildcard) {
      if (!matchUri(entry.uri, 'wildcard', uri)) continue;
      const score = entry.uri.split('.').filter((part) => part !== '').length;
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    return best;
  }

  /** Every entry. */
  all(): T[] {
    return [...this.byId.values()];
  }
}
