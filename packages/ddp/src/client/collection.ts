import { AsyncQueue, ClosedError, type WaitForOptions } from '@rt/transport';
import type { EJSONValue } from '../ejson.js';
import { QueueOverflowError } from '../errors.js';
import { diffFields, withoutId, type DocumentFields } from '../document-diff.js';
import { setOwn } from '../own.js';
import { CollectionCursor, type CursorSource, type FindOptions, type Selector } from './collection-cursor.js';

/** A document as the client holds it: frozen, with its id in `_id`. */
export type DDPDocument = Readonly<{ _id: string } & Record<string, EJSONValue>>;

/** A document joined the collection. */
export interface AddedEvent {
  readonly type: 'added';
  readonly collection: string;
  readonly _id: string;
  /** The document's fields (without `_id`). */
  readonly fields: Readonly<Record<string, EJSONValue>>;
}
/** A document's fields changed. */
export interface ChangedEvent {
  readonly type: 'changed';
  readonly collection: string;
  readonly _id: string;
  /** Fields with new values. */
  readonly fields: Readonly<Record<string, EJSONValue>>;
  /** Fields that were removed from the document. */
  readonly cleared: readonly string[];
}
/** A document left the collection. */
export interface RemovedEvent {
  readonly type: 'removed';
  readonly collection: string;
  readonly _id: string;
}
/** One change to a client collection. */
export type CollectionEvent = AddedEvent | ChangedEvent | RemovedEvent;

/** Options for `Collection.getQueue`. */
export interface CollectionQueueOptions {
  /** Close the queue when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Events the queue may hold before the consumer is considered lost. Past it the queue
   * ends with `QueueOverflowError` (after the buffered events). Default 100 000.
   */
  highWaterMark?: number;
}

/**
 * A bounded queue of one collection's events, in order. Read with `get()` or `for await`;
 * `close()` when done. It never blocks the client: a consumer that falls more than
 * `highWaterMark` events behind gets `QueueOverflowError` instead of silently missing events.
 */
export class CollectionQueue implements AsyncIterable<CollectionEvent> {
  readonly #queue: AsyncQueue<CollectionEvent>;
  readonly #highWaterMark: number;
  readonly #detach: () => void;

  /** Created by `Collection.getQueue`. */
  constructor(highWaterMark: number, detach: () => void) {
    this.#highWaterMark = highWaterMark;
    this.#queue = new AsyncQueue({ highWaterMark: Number.MAX_SAFE_INTEGER });
    this.#detach = detach;
  }

  /** Events waiting to be read. */
  get size(): number {
    return this.#queue.size;
  }

  /** Whether the queue is closed (buffered events may remain). */
  get closed(): boolean {
    return this.#queue.ended;
  }

  /** The next event. Rejects with `ClosedError` once closed and empty (or `QueueOverflowError`). */
  async get(options: WaitForOptions = {}): Promise<CollectionEvent> {
    const result = await this.#queue.next(options);
    if (result.done) throw new ClosedError('the collection queue is closed');
    return result.value;
  }

  /** Stop receiving events; buffered ones can still be read. */
  close(): void {
    if (this.#queue.ended) return;
    this.#detach();
    this.#queue.end();
  }

  /** Called by the collection for every event. @internal */
  deliver(event: CollectionEvent): void {
    if (this.#queue.ended) return;
    if (this.#queue.size >= this.#highWaterMark) {
      this.#detach();
      this.#queue.end(new QueueOverflowError(this.#highWaterMark));
      return;
    }
    this.#queue.push(event);
  }

  /** Iterate events until the queue is closed (breaking out closes it). */
  [Symbol.asyncIterator](): AsyncIterator<CollectionEvent> {
    return {
      next: () => this.#queue.next(),
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

/** What a collection needs from its client. */
export interface CollectionHost {
  /** EJSON equality, for telling real changes from repeats. */
  equals(a: unknown, b: unknown): boolean;
  /** Report a problem that does not stop the client (unknown ids, throwing listeners). */
  reportError(error: Error): void;
}

/**
 * A client-side collection: a read-only `Map` from `_id` to frozen documents, kept equal to
 * what the server publishes. Watch it with `onChange` or `getQueue`.
 */
export class Collection<T extends DDPDocument = DDPDocument> implements ReadonlyMap<string, T> {
  /** The collection's name. */
  readonly name: string;
  readonly #documents = new Map<string, T>();
  readonly #listeners = new Set<(event: CollectionEvent) => void>();
  readonly #queues = new Set<CollectionQueue>();
  readonly #host: CollectionHost;
  /** What this collection's cursors read. */
  readonly #cursorSource: CursorSource<T> = {
    values: () => this.#documents.values(),
    get: (id) => this.#documents.get(id),
    onChange: (listener) => this.onChange(listener),
    equals: (a, b) => this.#host.equals(a, b),
  };

  /** Created by the client; use `client.getCollection(name)`. */
  constructor(name: string, host: CollectionHost) {
    this.name = name;
    this.#host = host;
  }

  /** Number of documents. */
  get size(): number {
    return this.#documents.size;
  }

  /** The document with `_id` `id`, if present. */
  get(id: string): T | undefined {
    return this.#documents.get(id);
  }

  /** Whether a document with `_id` `id` is present. */
  has(id: string): boolean {
    return this.#documents.has(id);
  }

  /** The document ids. */
  keys(): MapIterator<string> {
    return this.#documents.keys();
  }

  /** The documents. */
  values(): MapIterator<T> {
    return this.#documents.values();
  }

  /** `[id, document]` pairs. */
  entries(): MapIterator<[string, T]> {
    return this.#documents.entries();
  }

  /** Call `callback` for every document, as `Map.forEach` does. */
  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#documents) callback.call(thisArg, value, key, this);
  }

  /** `[id, document]` pairs. */
  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.#documents.entries();
  }

  /**
   * A Minimongo-style query: `find({ score: { $gt: 10 } }, { sort: { score: -1 }, limit: 5 })`
   * returns a cursor (`fetch`, `count`, iteration, live `observe`). A string selects by `_id`.
   * Throws when the selector or projection uses an unknown operator.
   */
  find(selector: Selector = {}, options: FindOptions = {}): CollectionCursor<T> {
    return new CollectionCursor<T>(this.#cursorSource, selector, options);
  }

  /** The first document `find(selector, options)` would return, if any. */
  findOne(selector: Selector = {}, options: Omit<FindOptions, 'limit'> = {}): T | undefined {
    return this.find(selector, { ...options, limit: 1 }).fetch()[0];
  }


  /** Call `listener` synchronously for every event; returns a function that stops it. */
  onChange(listener: (event: CollectionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A new bounded queue receiving every event from now on. */
  getQueue(options: CollectionQueueOptions = {}): CollectionQueue {
    const queue = new CollectionQueue(options.highWaterMark ?? 100_000, () => this.#queues.delete(queue));
    this.#queues.add(queue);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) queue.close();
      else signal.addEventListener('abort', () => queue.close(), { once: true });
    }
    return queue;
  }

  /** Apply a server `added`; an id already present is reconciled instead (and reported). @internal */
  applyAdded(id: string, fields: DocumentFields): void {
    const existing = this.#documents.get(id);
    if (existing) {
      this.#host.reportError(new Error(`server added '${id}' to '${this.name}', which the client already has`));
      this.#replace(id, existing, fields);
      return;
    }
    this.#documents.set(id, freezeDocument(id, fields) as T);
    if (this.#watched()) this.#emit({ type: 'added', collection: this.name, _id: id, fields: withoutId(fields as Record<string, EJSONValue>) });
  }

  /** Apply a server `changed`: set `fields`, remove `cleared`; unknown ids are reported and skipped. @internal */
  applyChanged(id: string, fields: DocumentFields | undefined, cleared: readonly string[] | undefined): void {
    const existing = this.#documents.get(id);
    if (!existing) {
      this.#host.reportError(new Error(`server changed '${id}' in '${this.name}', which the client does not have`));
      return;
    }
    const next: Record<string, unknown> = {};
    const clearedSet = cleared && cleared.length > 0 ? new Set(cleared) : undefined;
    for (const key of Object.keys(existing)) {
      if (clearedSet?.has(key) && key !== '_id') continue;
      setOwn(next, key, (existing as Record<string, unknown>)[key]);
    }
    if (fields) for (const key of Object.keys(fields)) if (key !== '_id') setOwn(next, key, fields[key]);
    this.#documents.set(id, Object.freeze(next) as T);
    if (this.#watched()) {
      this.#emit({
        type: 'changed',
        collection: this.name,
        _id: id,
        fields: fields ? withoutId(fields as Record<string, EJSONValue>) : {},
        cleared: cleared ? cleared.filter((key) => key !== '_id') : [],
      });
    }
  }

  /** Apply a server `removed`; unknown ids are reported and skipped. @internal */
  applyRemoved(id: string): void {
    if (!this.#documents.delete(id)) {
      this.#host.reportError(new Error(`server removed '${id}' from '${this.name}', which the client does not have`));
      return;
    }
    if (this.#watched()) this.#emit({ type: 'removed', collection: this.name, _id: id });
  }

  /**
   * Make the collection equal `target` (id → fields), emitting events only for documents
   * that really differ. Used after a reconnect instead of wiping and refilling.
   */
  reconcile(target: ReadonlyMap<string, DocumentFields>): void {
    for (const id of [...this.#documents.keys()]) {
      if (!target.has(id)) this.applyRemoved(id);
    }
    for (const [id, fields] of target) {
      const existing = this.#documents.get(id);
      if (existing) this.#replace(id, existing, fields);
      else this.applyAdded(id, fields);
    }
  }

  /**
   * Set document `id` to `fields` (`undefined`: remove it), emitting an event only for a
   * real difference. Used by method stubs and when their documents return to the server's
   * version. @internal
   */
  setDocument(id: string, fields: DocumentFields | undefined): void {
    const existing = this.#documents.get(id);
    if (fields === undefined) {
      if (existing) this.applyRemoved(id);
    } else if (existing) {
      this.#replace(id, existing, fields);
    } else {
      this.applyAdded(id, fields);
    }
  }

  #replace(id: string, existing: T, fields: DocumentFields): void {
    const before = withoutId(existing as DocumentFields);
    const after = withoutId(fields);
    const difference = diffFields(before, after, (a, b) => this.#host.equals(a, b));
    if (!difference) return;
    this.#documents.set(id, freezeDocument(id, after) as T);
    if (this.#watched()) {
      this.#emit({
        type: 'changed',
        collection: this.name,
        _id: id,
        fields: difference.fields as Record<string, EJSONValue>,
        cleared: difference.cleared,
      });
    }
  }

  #watched(): boolean {
    return this.#listeners.size > 0 || this.#queues.size > 0;
  }

  #emit(event: CollectionEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#host.reportError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    for (const queue of this.#queues) queue.deliver(event);
  }
}

function freezeDocument(id: string, fields: DocumentFields): DDPDocument {
  // Spreading defines own properties (a `__proto__` field stays data), and is fast.
  const document = Object.prototype.hasOwnProperty.call(fields, '_id') ? { ...fields, _id: id } : { _id: id, ...fields };
  return Object.freeze(document) as DDPDocument;
}
