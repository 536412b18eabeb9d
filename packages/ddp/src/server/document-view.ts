import type { DocumentFields } from '../document-diff.js';
import { setOwn } from '../own.js';

/** Identifies the subscription that published a value (the subscription object itself). */
export type SourceKey = object;

/** Changes to what the client sees of one document, collected while applying one message. */
export interface FieldChanges {
  /** Fields with a new visible value. */
  fields: DocumentFields | undefined;
  /** Fields no subscription publishes any more. */
  cleared: string[] | undefined;
}

/** EJSON equality of two field values. */
export type ValueEquals = (a: unknown, b: unknown) => boolean;

interface FieldSource {
  source: SourceKey;
  value: unknown;
}

/**
 * One document as one client sees it. Almost every document is published by a single
 * subscription, so a view starts solo: one map of values owned by that subscription. When a
 * second subscription publishes the document, the view becomes shared: per field, every
 * subscription's value in arrival order, the first one visible (Meteor's precedence).
 */
export class DocumentView {
  /** Solo: the only subscription. */
  #solo: SourceKey | undefined;
  /** Solo: its field values. */
  #values: Map<string, unknown> | undefined = new Map();
  /** Shared: the subscriptions publishing the document. */
  #sources: Set<SourceKey> | undefined;
  /** Shared: per field, each subscription's value in arrival order. */
  #fieldSources: Map<string, FieldSource[]> | undefined;

  constructor(source: SourceKey) {
    this.#solo = source;
  }

  /** Whether `source` publishes this document. */
  hasSource(source: SourceKey): boolean {
    return this.#solo === source || this.#sources?.has(source) === true;
  }

  /** `source` publishes this document too. */
  addSource(source: SourceKey): void {
    if (this.hasSource(source)) return;
    this.#share().add(source);
  }

  /**
   * `source` stops publishing this document: its values go, the next subscription's show.
   * Returns how many subscriptions still publish it (0: the client must drop it).
   */
  removeSource(source: SourceKey, changes: FieldChanges, equals: ValueEquals): number {
    if (this.#solo === source) {
      this.#solo = undefined;
      this.#values = undefined;
      return 0;
    }
    const sources = this.#sources as Set<SourceKey>;
    sources.delete(source);
    if (sources.size === 0) return 0;
    for (const key of [...(this.#fieldSources as Map<string, FieldSource[]>).keys()]) this.clearField(source, key, changes, equals);
    return sources.size;
  }

  /** `source` sets field `key` to `value` (already copied); a change the client sees is collected. */
  setField(source: SourceKey, key: string, value: unknown, changes: FieldChanges, equals: ValueEquals): void {
    const values = this.#values;
    if (values !== undefined) {
      const had = values.has(key);
      const previous = values.get(key);
      values.set(key, value);
      if (!had || !equals(previous, value)) setOwn((changes.fields ??= {}), key, value);
      return;
    }
    const fieldSources = this.#fieldSources as Map<string, FieldSource[]>;
    const list = fieldSources.get(key);
    if (!list) {
      fieldSources.set(key, [{ source, value }]);
      setOwn((changes.fields ??= {}), key, value);
      return;
    }
    const entry = list.find((item) => item.source === source);
    if (!entry) {
      list.push({ source, value });
      return;
    }
    if (entry === list[0] && !equals(entry.value, value)) setOwn((changes.fields ??= {}), key, value);
    entry.value = value;
  }

  /** `source` clears field `key`; the next subscription's value shows, or the field is cleared. */
  clearField(source: SourceKey, key: string, changes: FieldChanges, equals: ValueEquals): void {
    const values = this.#values;
    if (values !== undefined) {
      if (values.delete(key)) (changes.cleared ??= []).push(key);
      return;
    }
    const fieldSources = this.#fieldSources as Map<string, FieldSource[]>;
    const list = fieldSources.get(key);
    if (!list) return;
    const index = list.findIndex((item) => item.source === source);
    if (index < 0) return;
    const [removed] = list.splice(index, 1);
    if (list.length === 0) {
      fieldSources.delete(key);
      (changes.cleared ??= []).push(key);
      return;
    }
    const first = list[0] as FieldSource;
    if (index === 0 && !equals((removed as FieldSource).value, first.value)) setOwn((changes.fields ??= {}), key, first.value);
  }

  /** The fields the client sees. */
  visibleFields(): DocumentFields {
    const fields: DocumentFields = {};
    if (this.#values !== undefined) {
      for (const [key, value] of this.#values) setOwn(fields, key, value);
    } else {
      for (const [key, list] of this.#fieldSources as Map<string, FieldSource[]>) setOwn(fields, key, (list[0] as FieldSource).value);
    }
    return fields;
  }

  /** Switch from solo to shared (once); returns the set of sources. */
  #share(): Set<SourceKey> {
    if (this.#sources !== undefined) return this.#sources;
    const solo = this.#solo as SourceKey;
    const fieldSources = new Map<string, FieldSource[]>();
    for (const [key, value] of this.#values as Map<string, unknown>) fieldSources.set(key, [{ source: solo, value }]);
    this.#sources = new Set([solo]);
    this.#fieldSources = fieldSources;
    this.#solo = undefined;
    this.#values = undefined;
    return this.#sources;
  }
}
