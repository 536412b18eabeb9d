import type { EJSON } from '../ejson.js';
import { diffDocuments, type DocumentFields } from '../document-diff.js';
import { DocumentView, type FieldChanges, type SourceKey } from './document-view.js';

export type { SourceKey } from './document-view.js';

/** Receives the data messages the merge box decides to send. */
export interface MergeBoxSink {
  added(collection: string, id: string, fields: DocumentFields): void;
  changed(collection: string, id: string, fields: DocumentFields, cleared: string[]): void;
  removed(collection: string, id: string): void;
}

/**
 * The server's per-connection record of what the client holds. Overlapping subscriptions
 * are merged: a document stays while any subscription publishes it, and each field is
 * reference-counted by subscription, so the client only hears about real changes to its
 * view. This is what Meteor calls the merge box.
 */
export class MergeBox {
  /** Where data messages go; swapped while subscriptions re-run after a login change. */
  sink: MergeBoxSink;
  readonly #ejson: EJSON;
  readonly #collections = new Map<string, Map<string, DocumentView>>();
  readonly #equals: (a: unknown, b: unknown) => boolean;

  constructor(sink: MergeBoxSink, ejson: EJSON) {
    this.sink = sink;
    this.#ejson = ejson;
    this.#equals = (a, b) => ejson.equals(a, b);
  }

  /** `source` publishes document `id` with `fields`. */
  added(source: SourceKey, collection: string, id: string, fields: DocumentFields): void {
    let documents = this.#collections.get(collection);
    if (!documents) {
      documents = new Map();
      this.#collections.set(collection, documents);
    }
    let view = documents.get(id);
    const isNew = view === undefined;
    if (view) view.addSource(source);
    else {
      view = new DocumentView(source);
      documents.set(id, view);
    }
    const changes: FieldChanges = { fields: undefined, cleared: undefined };
    for (const key of Object.keys(fields)) this.#setField(view, source, key, fields[key], changes);
    if (isNew) this.sink.added(collection, id, changes.fields ?? {});
    else this.#flush(collection, id, changes);
  }

  /** `source` changes fields of `id`; a value of `undefined` clears that field. */
  changed(source: SourceKey, collection: string, id: string, fields: DocumentFields): void {
    const view = this.#collections.get(collection)?.get(id);
    if (!view?.hasSource(source)) throw new Error(`cannot change document '${id}' in '${collection}': it was not added`);
    const changes: FieldChanges = { fields: undefined, cleared: undefined };
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value === undefined) view.clearField(source, key, changes, this.#equals);
      else this.#setField(view, source, key, value, changes);
    }
    this.#flush(collection, id, changes);
  }

  /** `source` stops publishing `id`; the client loses it once no subscription publishes it. */
  removed(source: SourceKey, collection: string, id: string): void {
    const documents = this.#collections.get(collection);
    const view = documents?.get(id);
    if (!documents || !view?.hasSource(source)) throw new Error(`cannot remove document '${id}' from '${collection}': it was not added`);
    const changes: FieldChanges = { fields: undefined, cleared: undefined };
    if (view.removeSource(source, changes, this.#equals) > 0) {
      this.#flush(collection, id, changes);
      return;
    }
    documents.delete(id);
    if (documents.size === 0) this.#collections.delete(collection);
    this.sink.removed(collection, id);
  }

  /** What the client currently holds: collection → id → visible fields. */
  snapshot(): Map<string, Map<string, DocumentFields>> {
    const result = new Map<string, Map<string, DocumentFields>>();
    for (const [collection, documents] of this.#collections) {
      const copy = new Map<string, DocumentFields>();
      for (const [id, view] of documents) copy.set(id, view.visibleFields());
      result.set(collection, copy);
    }
    return result;
  }

  /** Number of documents the client holds across collections. */
  get documentCount(): number {
    let count = 0;
    for (const documents of this.#collections.values()) count += documents.size;
    return count;
  }

  #setField(view: DocumentView, source: SourceKey, key: string, value: unknown, changes: FieldChanges): void {
    if (key === '_id' || value === undefined) return;
    // Keep our own copy: the publisher may mutate its object after handing it over.
    const stored = typeof value === 'object' && value !== null ? this.#ejson.clone(value) : value;
    view.setField(source, key, stored, changes, this.#equals);
  }

  #flush(collection: string, id: string, changes: FieldChanges): void {
    if (changes.fields === undefined && changes.cleared === undefined) return;
    this.sink.changed(collection, id, changes.fields ?? {}, changes.cleared ?? []);
  }
}

/** Send the messages that turn the client view `before` into `after` (collection → id → fields). */
export function emitDifference(
  before: ReadonlyMap<string, ReadonlyMap<string, DocumentFields>>,
  after: ReadonlyMap<string, ReadonlyMap<string, DocumentFields>>,
  equals: (a: unknown, b: unknown) => boolean,
  sink: MergeBoxSink,
): void {
  const empty = new Map<string, DocumentFields>();
  for (const collection of new Set([...before.keys(), ...after.keys()])) {
    diffDocuments(before.get(collection) ?? empty, after.get(collection) ?? empty, equals, {
      added: (id, fields) => sink.added(collection, id, fields),
      changed: (id, fields, cleared) => sink.changed(collection, id, fields, cleared),
      removed: (id) => sink.removed(collection, id),
    });
  }
}
