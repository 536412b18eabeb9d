import { withoutId, type DocumentFields } from '../document-diff.js';
import { setOwn } from '../own.js';
import type { Collection } from './collection.js';

/** A data message as the store applies it. */
export type DataMessage =
  | { msg: 'added'; collection: string; id: string; fields?: DocumentFields }
  | { msg: 'changed'; collection: string; id: string; fields?: DocumentFields; cleared?: string[] }
  | { msg: 'removed'; collection: string; id: string };

/**
 * The server's version of a document after `message`, given its version before
 * (`undefined`: the server does not have it). Inconsistent messages are reported.
 */
export function applyToServerFields(
  existing: DocumentFields | undefined,
  message: DataMessage,
  reportError: (error: Error) => void,
): DocumentFields | undefined {
  switch (message.msg) {
    case 'added':
      if (existing) reportError(new Error(`server added '${message.id}' to '${message.collection}' twice`));
      return message.fields ?? {};
    case 'changed': {
      if (!existing) {
        reportError(new Error(`server changed '${message.id}' in '${message.collection}', which it never added`));
        return undefined;
      }
      const next: DocumentFields = {};
      const cleared = new Set(message.cleared ?? []);
      for (const key of Object.keys(existing)) if (!cleared.has(key)) setOwn(next, key, existing[key]);
      if (message.fields) for (const key of Object.keys(message.fields)) setOwn(next, key, message.fields[key]);
      return next;
    }
    case 'removed':
      if (!existing) reportError(new Error(`server removed '${message.id}' from '${message.collection}', which it never added`));
      return undefined;
  }
}

/** A document some stub wrote: the server's version, kept aside until every writer is done. */
interface ShadowDocument {
  /** The server's fields, `undefined` while the server does not have the document. */
  fields: DocumentFields | undefined;
  /** Ids of the calls whose stubs wrote it and are not done yet. */
  readonly writers: Set<string>;
  /** Run when the visible document is reset to the server's version. */
  readonly onFlush: (() => void)[];
}

/**
 * Meteor's latency compensation bookkeeping. A document a method stub writes shows the
 * stub's version; the server's messages for it go to a shadow copy. Once every call that
 * wrote it is done (result and `updated`, or failed), the visible document is reset to the
 * shadow, so listeners only see real differences. While the server's view is unknown (from
 * a lost connection until the re-sync is done) releases wait.
 */
export class StubDocuments {
  readonly #shadows = new Map<string, Map<string, ShadowDocument>>();
  readonly #written = new Map<string, { collection: Collection; id: string }[]>();
  readonly #reportError: (error: Error) => void;
  /** `whenFlushed` callers still waiting, with their failure callbacks. */
  readonly #waiting = new Set<(error: Error) => void>();
  /** Releases held back until the server's view is known again; `undefined` while it is known. */
  #heldReleases: string[] | undefined;

  constructor(reportError: (error: Error) => void) {
    this.#reportError = reportError;
  }

  /** Documents some outstanding stub wrote. */
  get size(): number {
    let size = 0;
    for (const documents of this.#shadows.values()) size += documents.size;
    return size;
  }

  /** A stub of call `methodId` sets document `id` of `collection` to `fields` (`undefined`: removes it). */
  write(methodId: string, collection: Collection, id: string, fields: DocumentFields | undefined): void {
    let documents = this.#shadows.get(collection.name);
    if (!documents) {
      documents = new Map();
      this.#shadows.set(collection.name, documents);
    }
    let shadow = documents.get(id);
    if (!shadow) {
      const current = collection.get(id);
      shadow = { fields: current ? withoutId(current) : undefined, writers: new Set(), onFlush: [] };
      documents.set(id, shadow);
    }
    if (!shadow.writers.has(methodId)) {
      shadow.writers.add(methodId);
      let written = this.#written.get(methodId);
      if (!written) {
        written = [];
        this.#written.set(methodId, written);
      }
      written.push({ collection, id });
    }
    collection.setDocument(id, fields);
  }

  /** Keep a server data message for a stub-written document aside; `false` for other documents. */
  absorb(message: DataMessage): boolean {
    const shadow = this.#shadows.get(message.collection)?.get(message.id);
    if (!shadow) return false;
    shadow.fields = applyToServerFields(shadow.fields, message, this.#reportError);
    return true;
  }

  /**
   * The re-sync built `image` (id → fields) for `collection`: stub-written documents take
   * their server version from it, and in the image they are replaced by what is visible,
   * so that reconciling leaves them alone.
   */
  refresh(collection: Collection, image: Map<string, DocumentFields>): void {
    const documents = this.#shadows.get(collection.name);
    if (!documents) return;
    for (const [id, shadow] of documents) {
      shadow.fields = image.get(id);
      const visible = collection.get(id);
      if (visible) image.set(id, withoutId(visible));
      else image.delete(id);
    }
  }

  /** The connection was lost: the shadows are stale until the next re-sync. */
  connectionLost(): void {
    this.#heldReleases ??= [];
  }

  /** The server's view is known again (the re-sync finished, or the session was resumed). */
  serverViewKnown(): void {
    const held = this.#heldReleases;
    this.#heldReleases = undefined;
    for (const methodId of held ?? []) this.release(methodId);
  }

  /**
   * Call `methodId` is done (or failed): it no longer holds the documents its stub wrote.
   * Documents no other call holds are reset to the server's version.
   */
  release(methodId: string): void {
    if (!this.#written.has(methodId)) return;
    if (this.#heldReleases) {
      this.#heldReleases.push(methodId);
      return;
    }
    const written = this.#written.get(methodId) ?? [];
    this.#written.delete(methodId);
    for (const { collection, id } of written) {
      const documents = this.#shadows.get(collection.name);
      const shadow = documents?.get(id);
      if (!documents || !shadow) continue;
      shadow.writers.delete(methodId);
      if (shadow.writers.size > 0) continue;
      documents.delete(id);
      if (documents.size === 0) this.#shadows.delete(collection.name);
      collection.setDocument(id, shadow.fields);
      for (const flushed of shadow.onFlush) flushed();
    }
  }

  /**
   * Run `callback` once every document stubs wrote so far shows the server's version, or
   * `fail` if the client gives up first (`abandonWaiters`).
   */
  whenFlushed(callback: () => void, fail: (error: Error) => void): void {
    let remaining = this.size;
    if (remaining === 0) {
      callback();
      return;
    }
    this.#waiting.add(fail);
    const flushed = (): void => {
      remaining -= 1;
      if (remaining > 0 || !this.#waiting.delete(fail)) return;
      callback();
    };
    for (const documents of this.#shadows.values()) for (const shadow of documents.values()) shadow.onFlush.push(flushed);
  }

  /** The client went offline for good: fail every `whenFlushed` still waiting. */
  abandonWaiters(error: Error): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const fail of waiting) fail(error);
  }
}
