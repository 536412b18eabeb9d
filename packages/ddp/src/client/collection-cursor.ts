import { Query } from 'mingo';
import { diffFields, withoutId } from '../document-diff.js';
import type { EJSONValue } from '../ejson.js';
import { setOwn } from '../own.js';
import type { CollectionEvent, DDPDocument } from './collection.js';

/** A Mongo selector (`{ score: { $gt: 10 } }`), or a document id as a shorthand for `{ _id: id }`. */
export type Selector = string | Readonly<Record<string, unknown>>;

/** How `find` orders, pages and shapes its results, as in Meteor's `Collection.find`. */
export interface FindOptions {
  /** Sort specification: `{ field: 1 }` ascending, `-1` descending, applied in key order. */
  sort?: Readonly<Record<string, 1 | -1>>;
  /** Results to leave out from the start (after sorting). */
  skip?: number;
  /** Most results to return. */
  limit?: number;
  /** Projection (Meteor's `fields`): `1` keeps a field, `0` drops it; `_id` stays unless dropped. */
  fields?: Readonly<Record<string, 0 | 1 | boolean>>;
}

/** Callbacks of a live query (`cursor.observe`). Documents are frozen. */
export interface ObserveCallbacks<T> {
  /** A document entered the result (called for every current result when observing starts). */
  added?(document: T): void;
  /** A document in the result changed. */
  changed?(document: T, previous: T): void;
  /** A document left the result. */
  removed?(previous: T): void;
}

/**
 * Field-level callbacks of a live query (`cursor.observeChanges`), as in Meteor. Fields come
 * without `_id`; in `changed`, a field set to `undefined` was removed.
 */
export interface ObserveChangesCallbacks {
  /** A document entered the result (called for every current result when observing starts). */
  added?(id: string, fields: Readonly<Record<string, EJSONValue>>): void;
  /** Fields of a document in the result changed. */
  changed?(id: string, fields: Readonly<Record<string, EJSONValue | undefined>>): void;
  /** A document left the result. */
  removed?(id: string): void;
}

/** Stops a live query. */
export interface ObserveHandle {
  /** Stop calling the callbacks. */
  stop(): void;
}

/** What a cursor reads from its collection. */
export interface CursorSource<T> {
  values(): Iterable<T>;
  get(id: string): T | undefined;
  onChange(listener: (event: CollectionEvent) => void): () => void;
  /** EJSON equality, to skip `changed` when nothing the projection keeps has changed. */
  equals(a: unknown, b: unknown): boolean;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * A query over a client collection, Minimongo-style: `fetch`, `count`, iteration, and a live
 * `observe`. Selectors and projections use MongoDB's query language (through mingo); a bad
 * operator throws when the cursor is made. The cursor reads the collection afresh every time.
 */
export class CollectionCursor<T extends DDPDocument = DDPDocument> implements Iterable<T> {
  readonly #source: CursorSource<T>;
  readonly #query: Query;
  readonly #options: FindOptions;

  /** Made by `Collection.find`. */
  constructor(source: CursorSource<T>, selector: Selector, options: FindOptions) {
    if (options.skip !== undefined && !isNonNegativeInteger(options.skip)) throw new TypeError('find: skip must be a non-negative integer');
    if (options.limit !== undefined && !isNonNegativeInteger(options.limit)) throw new TypeError('find: limit must be a non-negative integer');
    this.#source = source;
    this.#query = new Query(typeof selector === 'string' ? { _id: selector } : { ...selector }, {});
    this.#options = options;
  }

  /** Whether `document` matches the selector (sort, skip and limit aside). */
  matches(document: T): boolean {
    return this.#query.test(document);
  }

  /** The matching documents, sorted, paged and projected. */
  fetch(): T[] {
    const { sort, skip, limit, fields } = this.#options;
    let cursor = this.#query.find<Record<string, unknown>>([...this.#source.values()], fields ? { ...fields } : undefined);
    if (sort) cursor = cursor.sort({ ...sort });
    if (skip) cursor = cursor.skip(skip);
    if (limit) cursor = cursor.limit(limit);
    const results = cursor.all() as T[];
    return fields ? results.map((document) => Object.freeze(document)) : results;
  }

  /** How many documents `fetch` would return. */
  count(): number {
    return this.fetch().length;
  }

  /** Call `callback` for every result, in order. */
  forEach(callback: (document: T, index: number) => void): void {
    this.fetch().forEach((document, index) => callback(document, index));
  }

  /** Map every result, in order. */
  map<U>(callback: (document: T, index: number) => U): U[] {
    return this.fetch().map((document, index) => callback(document, index));
  }

  /** Iterate the results. */
  [Symbol.iterator](): Iterator<T> {
    return this.fetch()[Symbol.iterator]();
  }

  /**
   * A live query: `added` for every current result at once, then `added`, `changed` and
   * `removed` as the collection changes (including the re-sync after a reconnect). Without
   * `skip` or `limit` each change is checked on its own; with them the result is recomputed
   * on every change of the collection.
   */
  observe(callbacks: ObserveCallbacks<T>): ObserveHandle {
    const idField = this.#options.fields?.['_id'];
    if (idField === 0 || idField === false) throw new TypeError('observe needs `_id`: do not drop it in `fields`');
    const current = new Map<string, T>();
    for (const document of this.fetch()) {
      current.set(document._id, document);
      callbacks.added?.(document);
    }
    const paged = this.#options.skip !== undefined || this.#options.limit !== undefined;
    const stop = this.#source.onChange((event) =>
      paged ? this.#refresh(current, callbacks) : this.#follow(event, current, callbacks),
    );
    return { stop };
  }

  /**
   * A live query reporting field changes instead of whole documents (Meteor's unordered
   * `observeChanges`): `added(id, fields)`, `changed(id, changedFields)` with removed fields as
   * `undefined`, `removed(id)`. Same rules as `observe`.
   */
  observeChanges(callbacks: ObserveChangesCallbacks): ObserveHandle {
    return this.observe({
      added: (document) => callbacks.added?.(document._id, withoutId(document)),
      changed: (document, previous) => {
        const difference = diffFields(withoutId(previous), withoutId(document), (a, b) => this.#source.equals(a, b));
        if (!difference) return;
        const fields: Record<string, EJSONValue | undefined> = { ...(difference.fields as Record<string, EJSONValue>) };
        for (const key of difference.cleared) setOwn(fields, key, undefined);
        callbacks.changed?.(document._id, fields);
      },
      removed: (previous) => callbacks.removed?.(previous._id),
    });
  }

  /** Apply one change to an unpaged live result. */
  #follow(event: CollectionEvent, current: Map<string, T>, callbacks: ObserveCallbacks<T>): void {
    const previous = current.get(event._id);
    const document = event.type === 'removed' ? undefined : this.#source.get(event._id);
    const next = document !== undefined && this.matches(document) ? this.#project(document) : undefined;
    if (next === undefined) {
      if (previous === undefined) return;
      current.delete(event._id);
      callbacks.removed?.(previous);
    } else if (previous === undefined) {
      current.set(event._id, next);
      callbacks.added?.(next);
    } else if (!this.#source.equals(previous, next)) {
      current.set(event._id, next);
      callbacks.changed?.(next, previous);
    }
  }

  /** Recompute a paged live result and report the differences. */
  #refresh(current: Map<string, T>, callbacks: ObserveCallbacks<T>): void {
    const results = new Map(this.fetch().map((document) => [document._id, document] as const));
    for (const [id, previous] of [...current]) {
      if (results.has(id)) continue;
      current.delete(id);
      callbacks.removed?.(previous);
    }
    for (const [id, next] of results) {
      const previous = current.get(id);
      if (previous !== undefined && this.#source.equals(previous, next)) continue;
      current.set(id, next);
      if (previous === undefined) callbacks.added?.(next);
      else callbacks.changed?.(next, previous);
    }
  }

  #project(document: T): T {
    const fields = this.#options.fields;
    if (!fields) return document;
    const [projected] = this.#query.find<Record<string, unknown>>([document], { ...fields }).all();
    return Object.freeze(projected) as T;
  }
}
