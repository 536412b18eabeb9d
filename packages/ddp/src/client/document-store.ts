import type { DocumentFields } from '../document-diff.js';
import { Collection, type CollectionHost, type DDPDocument } from './collection.js';
import { applyToServerFields, StubDocuments, type DataMessage } from './stub-documents.js';

export type { DataMessage } from './stub-documents.js';

/**
 * The client's collections. Normally data messages go straight into them. While a
 * reconnect re-syncs, they build a fresh image of the server's data instead; `endResync`
 * then reconciles each collection with the image, so listeners only see real differences.
 * Documents written by method stubs are left to `stubs` until their calls are done.
 */
export class DocumentStore {
  readonly #collections = new Map<string, Collection>();
  readonly #host: CollectionHost;
  #image: Map<string, Map<string, DocumentFields>> | undefined;
  /** Documents written by method stubs, and the server's versions of them. */
  readonly stubs: StubDocuments;

  constructor(host: CollectionHost) {
    this.#host = host;
    this.stubs = new StubDocuments((error) => host.reportError(error));
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

  /**
   * Apply one data message: to the image while re-syncing, to the shadow copy for a
   * document a pending stub wrote, otherwise to the collection.
   */
  apply(message: DataMessage): void {
    if (this.#image) {
      this.#applyToImage(this.#image, message);
      return;
    }
    if (this.stubs.absorb(message)) return;
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

  /**
   * Make every collection equal the image, emitting only real differences; documents
   * pending stubs wrote keep their visible version and take the image as their server one.
   */
  endResync(): void {
    const image = this.#image;
    this.#image = undefined;
    if (image) {
      for (const name of new Set([...this.#collections.keys(), ...image.keys()])) {
        const documents = image.get(name) ?? new Map<string, DocumentFields>();
        const collection = this.collection(name);
        this.stubs.refresh(collection, documents);
        collection.reconcile(documents);
      }
    }
    this.stubs.serverViewKnown();
  }

  #applyToImage(image: Map<string, Map<string, DocumentFields>>, message: DataMessage): void {
    let documents = image.get(message.collection);
    if (!documents) {
      documents = new Map();
      image.set(message.collection, documents);
    }
    const next = applyToServerFields(documents.get(message.id), message, (error) => this.#host.reportError(error));
    if (next) documents.set(message.id, next);
    else documents.delete(message.id);
  }
}
