import type { DocumentFields } from '../document-diff.js';
import { setOwn } from '../own.js';
import { Collection, type CollectionHost, type DDPDocument } from './collection.js';

/** A data message as the store applies it. */
export type DataMessage =
  | { msg: 'added'; collection: string; id: string; fields?: DocumentFields }
  | { msg: 'changed'; collection: string; id: string; fields?: DocumentFields; cleared?: string[] }
  | { msg: 'removed'; collection: string; id: string };

/**
 * The client's collections. Normally data messages go straight into them. While a
 * reconnect re-syncs, they build a fresh image of the server's data instead; `endResync`
 * then reconciles each collection with the image, so listeners only see real differences.
 */
export class DocumentStore {
  readonly #collections = new Map<string, Collection>();
  readonly #host: CollectionHost;
  #image: Map<string, Map<string, DocumentFields>> | undefined;

  constructor(host: CollectionHost) {
    this.#host = host;
  }

  /** Whether a re-sync is buffering data. */
  get resyncing(): boolean {
    return this.#image !== undefined;
  }

  /** The collection called `name`, created empty on first use. */
  collection<T extends DDPDocument = DDPDocument>(name: string): Collection<T> {
    let collection = this.#collections.get(name);
    if (!collection) {
      collection = new Collection(name, this.#host);
      this.#collections.set(name, collection);
    }
    return collection as unknown as Collection<T>;
  }

  /** Apply one data message, to the collections or, while re-syncing, to the image. */
  apply(message: DataMessage): void {
    if (this.#image) {
      this.#applyToImage(this.#image, message);
      return;
    }
    const collection = this.collection(message.collection);
    switch (message.msg) {
      case 'added':
        collection.applyAdded(message.id, message.fields ?? {});
        return;
      case 'changed':
        collection.applyChanged(message.id, message.fields, message.cleared);
        return;
      case 'removed':
        collection.applyRemoved(message.id);
        return;
    }
  }

  /** Start buffering a fresh image of the server's data (a new session after a reconnect). */
  beginResync(): void {
    this.#image = new Map();
  }

  /** Drop the image (the connection dropped again before the re-sync finished). */
  abandonResync(): void {
    this.#image = undefined;
  }

  /** Make every collection equal the image, emitting only real differences. */
  endResync(): void {
    const image = this.#image;
    if (!image) return;
    this.#image = undefined;
    const empty = new Map<string, DocumentFields>();
    for (const name of new Set([...this.#collections.keys(), ...image.keys()])) {
      this.collection(name).reconcile(image.get(name) ?? empty);
    }
  }

  #applyToImage(image: Map<string, Map<string, DocumentFields>>, message: DataMessage): void {
    let documents = image.get(message.collection);
    if (!documents) {
      documents = new Map();
      image.set(message.collection, documents);
    }
    switch (message.msg) {
      case 'added':
        if (documents.has(message.id)) {
          this.#host.reportError(new Error(`server added '${message.id}' to '${message.collection}' twice`));
        }
        documents.set(message.id, message.fields ?? {});
        return;
      case 'changed': {
        const existing = documents.get(message.id);
        if (!existing) {
          this.#host.reportError(new Error(`server changed '${message.id}' in '${message.collection}', which it never added`));
          return;
        }
        const next: DocumentFields = {};
        const cleared = new Set(message.cleared ?? []);
        for (const key of Object.keys(existing)) if (!cleared.has(key)) setOwn(next, key, existing[key]);
        if (message.fields) for (const key of Object.keys(message.fields)) setOwn(next, key, message.fields[key]);
        documents.set(message.id, next);
        return;
      }
      case 'removed':
        if (!documents.delete(message.id)) {
          this.#host.reportError(new Error(`server removed '${message.id}' from '${message.collection}', which it never added`));
        }
        return;
    }
  }
}
