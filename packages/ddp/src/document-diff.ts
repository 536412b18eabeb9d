import { hasOwn, setOwn } from './own.js';

/** The fields of one document (without `_id`). */
export type DocumentFields = Record<string, unknown>;

/** Receives the data messages that turn one view of a collection into another. */
export interface DiffSink {
  /** `id` is new. */
  added(id: string, fields: DocumentFields): void;
  /** `id` has new values in `fields` and lost the fields in `cleared`. */
  changed(id: string, fields: DocumentFields, cleared: string[]): void;
  /** `id` is gone. */
  removed(id: string): void;
}

/**
 * Compare one document's fields: the new values and the cleared names that turn `before`
 * into `after`, or `undefined` when they are equal.
 */
export function diffFields(
  before: DocumentFields,
  after: DocumentFields,
  equals: (a: unknown, b: unknown) => boolean,
): { fields: DocumentFields; cleared: string[] } | undefined {
  let fields: DocumentFields | undefined;
  let cleared: string[] | undefined;
  for (const key of Object.keys(after)) {
    if (!hasOwn(before, key) || !equals(before[key], after[key])) {
      fields ??= {};
      setOwn(fields, key, after[key]);
    }
  }
  for (const key of Object.keys(before)) {
    if (!hasOwn(after, key)) (cleared ??= []).push(key);
  }
  if (fields === undefined && cleared === undefined) return undefined;
  return { fields: fields ?? {}, cleared: cleared ?? [] };
}

/**
 * Report the messages that turn the documents in `before` into those in `after`: one event
 * per document that really differs, none for documents that are equal.
 */
export function diffDocuments(
  before: ReadonlyMap<string, DocumentFields>,
  after: ReadonlyMap<string, DocumentFields>,
  equals: (a: unknown, b: unknown) => boolean,
  sink: DiffSink,
): void {
  for (const id of before.keys()) {
    if (!after.has(id)) sink.removed(id);
  }
  for (const [id, fields] of after) {
    const previous = before.get(id);
    if (previous === undefined) {
      sink.added(id, fields);
      continue;
    }
    const difference = diffFields(previous, fields, equals);
    if (difference) sink.changed(id, difference.fields, difference.cleared);
  }
}

/** The fields of `document` without `_id`: the same object when it has no `_id`, else a copy. */
export function withoutId<T>(document: Readonly<Record<string, T>>): Record<string, T> {
  if (!hasOwn(document, '_id')) return document as Record<string, T>;
  const fields: Record<string, T> = {};
  for (const key of Object.keys(document)) if (key !== '_id') setOwn(fields, key, document[key]);
  return fields;
}
