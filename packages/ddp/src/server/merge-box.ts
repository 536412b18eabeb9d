import type { EJSON } from '../ejson.js';
import { setOwn } from '../own.js';
import { diffDocuments, type DocumentFields } from '../document-diff.js';

/** Identifies the subscription that published a value (the subscription object itself). */
export type SourceKey = object;

/** Receives the data messages the merge box decides to send. */
export interface MergeBoxSink {
  added(collection: string, id: string, fields: DocumentFields): void;
  changed(collection: string, id: string, fields: DocumentFields, cleared: string[]): void;
  removed(collection: string, id: string): void;
}

interface FieldSource {
  source: SourceKey;
  value: unknown;
}

/**
 * One document as the client sees it: which subscriptions publish it and, per field, every
 * subscription's value in arrival order. The client sees the first value of each field.
 */
class DocumentView {
  readonly sources = new Set<SourceKey>();
  readonly fieldSources = new Map<string, FieldSource[]>();

  visibleFields(): DocumentFields {
    const fields: DocumentFields = {};
    for (const [key, list] of this.fieldSources) setOwn(fields, key, (list[0] as FieldSource).value);
    return fields;
  }
}

/** Collected changes to one document, sent as one message. */
interface Collector {
  fields: DocumentFields | undefined;
  cleared: string[] | undefined;
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

  constructor(sink: MergeBoxSink, ejson: EJSON) {
    this.sink = sink;
    this.#ejson = ejson;
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
    if (!view) {
      view = new DocumentView();
      documents.set(id, view);
    }
    view.sources.add(source);
    const collector: Collector = { fields: undefined, cleared: undefined };
    for (const key of Object.keys(fields)) this.#setField(view, source, key, fields[key], collector);
    if (isNew) this.sink.added(collection, id, collector.fields ?? {});
    else this.#flush(collection, id, collector);
  }

  /** `source` changes fields of `id`; a value of `undefined` clears that field. */
  changed(source: SourceKey, collection: string, id: string, fields: DocumentFields): void {
    const view = this.#collections.get(collection)?.get(id);
    if (!view?.sources.has(source)) throw new Error(`cannot change document '${id}' in '${collection}': it was not added`);
    const collector: Collector = { fields: undefined, cleared: undefined };
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value === undefined) this.#clearField(view, source, key, collector);
      else this.#setField(view, source, key, value, collector);
    }
    this.#flush(collection, id, collector);
  }

  /** `source` stops publishing `id`; the client loses it once no subscription publishes it. */
  removed(source: SourceKey, collection: string, id: string): void {
    const documents = this.#collections.get(collection);
    const view = documents?.get(id);
    if (!documents || !view?.sources.has(source)) throw new Error(`cannot remove document '${id}' from '${collection}': it was not added`);
    view.sources.delete(source);
    if (view.sources.size === 0) {
      documents.delete(id);
      if (documents.size === 0) this.#collections.delete(collection);
      this.sink.removed(collection, id);
      return;
    }
    const collector: Collector = { fields: undefined, cleared: undefined };
    for (const key of [...view.fieldSources.keys()]) this.#clearField(view, source, key, collector);
    this.#flush(collection, id, collector);
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

  #setField(view: DocumentView, source: SourceKey, key: string, value: unknown, collector: Collector): void {
    if (key === '_id' || value === undefined) return;
    // Keep our own copy: the publisher may mutate its object after handing it over.
    const stored = typeof value === 'object' && value !== null ? this.#ejson.clone(value) : value;
    const list = view.fieldSources.get(key);
    if (!list) {
      view.fieldSources.set(key, [{ source, value: stored }]);
      setOwn((collector.fields ??= {}), key, stored);
      return;
    }
    const entry = list.find((item) => item.source === source);
    if (!entry) {
      list.push({ source, value: stored });
      return;
    }
    if (entry === list[0] && !this.#ejson.equals(entry.value, stored)) setOwn((collector.fields ??= {}), key, stored);
    entry.value = stored;
  }

  #clearField(view: DocumentView, source: SourceKey, key: string, collector: Collector): void {
    const list = view.fieldSources.get(key);
    if (!list) return;
    const index = list.findIndex((item) => item.source === source);
    if (index < 0) return;
    const [removed] = list.splice(index, 1);
    if (list.length === 0) {
      view.fieldSources.delete(key);
      (collector.cleared ??= []).push(key);
      return;
    }
    const first = list[0] as FieldSource;
    if (index === 0 && !this.#ejson.equals((removed as FieldSource).value, first.value)) {
      setOwn((collector.fields ??= {}), key, first.value);
    }
  }

  #flush(collection: string, id: string, collector: Collector): void {
    if (collector.fields === undefined && collector.cleared === undefined) return;
    this.sink.changed(collection, id, collector.fields ?? {}, collector.cleared ?? []);
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
