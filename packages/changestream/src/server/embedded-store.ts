import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClosedError } from '@rt/transport';
import { makeTokenData, ORIGIN_TOKEN_DATA } from '../token.js';
import type { Document, Namespace, Timestamp } from '../types.js';
import { stringifyWire } from '../wire-json.js';
import { decodeStored, encodeStored } from './record-codec.js';
import { DurableLog } from './durable-log.js';
import { EmbeddedDb } from './embedded-collection.js';
import type { ChangeRecord, ChangeSink, ChangeSource, SourceAttachment } from './source.js';

/** Options of `EmbeddedStore.open`. */
export interface EmbeddedStoreOptions {
  /** `fdatasync` every group of writes before acknowledging them (default true). */
  sync?: boolean;
}

/** A change about to be recorded (the store adds token and times). */
export type PendingChange = Omit<ChangeRecord, 'token' | 'clusterTime' | 'wallTime'>;

/** The key under which a document is stored: its `_id` as wire JSON. */
export function idKey(id: unknown): string {
  return stringifyWire(id);
}

function namespaceKey(db: string, coll: string): string {
  return `${db}\u0000${coll}`;
}

/**
 * An embedded document store whose every write is first appended to a durable change log on
 * disk; its documents are rebuilt from that log when it opens. It is itself a change source.
 */
export class EmbeddedStore implements ChangeSource {
  readonly directory: string;
  readonly #log: DurableLog;
  readonly #collections = new Map<string, Map<string, Document>>();
  readonly #records: ChangeRecord[] = [];
  readonly #sinks = new Set<ChangeSink>();
  /** Changes made in memory but not yet durable, in order. */
  #unpublished: ChangeRecord[] = [];
  #sequence = 0;
  #clusterTime: Timestamp = { t: 0, i: 0 };
  #closed = false;

  private constructor(directory: string, log: DurableLog) {
    this.directory = directory;
    this.#log = log;
  }

  /** Open (or create) a store in `directory`, replaying its change log. */
  static async open(directory: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    await mkdir(directory, { recursive: true });
    const { log, payloads } = await DurableLog.open(join(directory, 'changes.log'), options.sync === undefined ? {} : { sync: options.sync });
    const store = new EmbeddedStore(directory, log);
    for (const payload of payloads) store.#replay(decodeStored(payload) as ChangeRecord);
    return store;
  }

  /** A database handle. */
  db(name: string): EmbeddedDb {
    return new EmbeddedDb(this, name);
  }

  /** Number of changes recorded. */
  get changeCount(): number {
    return this.#records.length;
  }

  /** Names of the collections of a database that hold documents. */
  collectionNames(db: string): string[] {
    const prefix = `${db}\u0000`;
    return [...this.#collections.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  /** The documents of a collection (live map; treat as read-only). */
  documents(db: string, coll: string): ReadonlyMap<string, Document> | undefined {
    return this.#collections.get(namespaceKey(db, coll));
  }

  /**
   * Record changes: apply them to memory at once (so later writes see them), then resolve
   * when they are durable and delivered to attached sinks. Internal to the store's handles.
   */
  record(changes: readonly PendingChange[]): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the store is closed'));
    const now = Date.now();
    const records = changes.map((change) => {
      this.#sequence += 1;
      const seconds = Math.floor(now / 1000);
      this.#clusterTime = seconds > this.#clusterTime.t ? { t: seconds, i: 1 } : { t: this.#clusterTime.t, i: this.#clusterTime.i + 1 };
      const record: ChangeRecord = { token: makeTokenData(BigInt(this.#sequence), 0), clusterTime: this.#clusterTime, wallTime: new Date(now), ...change };
      this.#apply(record);
      return record;
    });
    this.#unpublished.push(...records);
    const last = records.at(-1)?.token;
    return this.#log.append(records.map(encodeStored)).then(() => {
      if (last !== undefined) this.#publishThrough(last);
    });
  }

  /** The collection map for a namespace, created on demand when `create` is set. */
  collection(db: string, coll: string, create: true): Map<string, Document>;
  collection(db: string, coll: string, create?: boolean): Map<string, Document> | undefined;
  collection(db: string, coll: string, create = false): Map<string, Document> | undefined {
    const key = namespaceKey(db, coll);
    let documents = this.#collections.get(key);
    if (!documents && create) {
      documents = new Map();
      this.#collections.set(key, documents);
    }
    return documents;
  }

  async attach(sink: ChangeSink): Promise<SourceAttachment> {
    sink.append(this.#records);
    this.#sinks.add(sink);
    return {
      origin: ORIGIN_TOKEN_DATA,
      close: () => {
        this.#sinks.delete(sink);
        return Promise.resolve();
      },
    };
  }

  lookup(ns: Namespace, documentKey: Document): Promise<Document | null> {
    if (ns.coll === undefined) return Promise.resolve(null);
    return Promise.resolve(this.collection(ns.db, ns.coll)?.get(idKey(documentKey['_id'])) ?? null);
  }

  /** Flush pending writes and close the log file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #replay(record: ChangeRecord): void {
    this.#sequence += 1;
    this.#clusterTime = record.clusterTime;
    this.#apply(record);
    this.#records.push(record);
  }

  #apply(record: ChangeRecord): void {
    const { db, coll } = record.ns;
    const id = record.documentKey?.['_id'];
    switch (record.operationType) {
      case 'create':
        if (coll !== undefined) this.collection(db, coll, true);
        break;
      case 'insert':
      case 'update':
      case 'replace':
        if (coll !== undefined && record.fullDocument) this.collection(db, coll, true).set(idKey(id), record.fullDocument);
        break;
      case 'delete':
        if (coll !== undefined) this.collection(db, coll)?.delete(idKey(id));
        break;
      case 'drop':
        if (coll !== undefined) this.#collections.delete(namespaceKey(db, coll));
        break;
      case 'rename': {
        const documents = coll === undefined ? undefined : this.collection(db, coll);
        const to = record.to;
        if (coll !== undefined && documents && to?.coll !== undefined) {
          this.#collections.delete(namespaceKey(db, coll));
          this.#collections.set(namespaceKey(to.db, to.coll), documents);
        }
        break;
      }
      case 'dropDatabase':
        for (const name of this.collectionNames(db)) this.#collections.delete(namespaceKey(db, name));
        break;
    }
  }

  #publishThrough(token: string): void {
    let count = 0;
    while (count < this.#unpublished.length && (this.#unpublished[count] as ChangeRecord).token <= token) count += 1;
    if (count === 0) return;
    const ready = this.#unpublished.slice(0, count);
    this.#unpublished = this.#unpublished.slice(count);
    for (const record of ready) this.#records.push(record);
    for (const sink of this.#sinks) sink.append(ready);
  }
}
