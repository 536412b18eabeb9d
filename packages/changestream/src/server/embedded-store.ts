import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClosedError } from '@rt/transport';
import { makeTokenData } from '../token.js';
import type { Document, Namespace, Timestamp } from '../types.js';
import { stringifyWire } from '../wire-json.js';
import { decodeStored, encodeStored } from './record-codec.js';
import { ChangeLog } from './change-log.js';
import { DurableLog } from './durable-log.js';
import { DEFAULT_COMPACT_AFTER_BYTES, DEFAULT_STORE_RETENTION, type RetentionPolicy } from './retention.js';
import { EmbeddedDb } from './embedded-collection.js';
import type { ChangeRecord, ChangeSink, ChangeSource, SourceAttachment } from './source.js';

/** Options of `EmbeddedStore.open`. */
export interface EmbeddedStoreOptions {
  /** `fdatasync` every group of writes before acknowledging them (default true). */
  sync?: boolean;
  /**
   * How much change history the store keeps for resuming (default `DEFAULT_STORE_RETENTION`);
   * the documents themselves are always kept. Tokens older than the history get 286.
   */
  retention?: RetentionPolicy;
  /**
   * Compact the log file once it has grown by this many bytes, and by at least its compacted
   * size, since its last compaction (default `DEFAULT_COMPACT_AFTER_BYTES`; `Infinity`: only
   * when `compact()` is called).
   */
  compactAfterBytes?: number;
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

/** First record of a compacted log file: the state its documents snapshot is taken at. */
interface SnapshotHeader {
  readonly $snapshot: 1;
  /** Token of the last change applied to the snapshot (later changes are replayed). */
  readonly through: string;
  readonly sequence: number;
  readonly clusterTime: Timestamp;
  /** Where the retained history starts, and that change's cluster time. */
  readonly origin: string;
  readonly originTime?: Timestamp;
  /** Number of `DocumentsChunk` records that follow. */
  readonly chunks: number;
}

/** Part of a collection's documents in a snapshot. */
interface DocumentsChunk {
  readonly $documents: [db: string, coll: string];
  readonly list: Document[];
}

/** Documents per snapshot record. */
const CHUNK_DOCUMENTS = 512;

function isHeader(value: unknown): value is SnapshotHeader {
  return typeof value === 'object' && value !== null && '$snapshot' in value;
}

/**
 * An embedded document store whose every write is first appended to a durable change log on
 * disk. The log file is compacted now and then (crash-safely) into a snapshot of the documents
 * followed by the retained change history; when the store opens, it loads the snapshot and
 * replays the changes after it. Only the retained history (see `retention`) is kept in memory.
 * The store is itself a change source.
 */
export class EmbeddedStore implements ChangeSource {
  readonly directory: string;
  readonly #log: DurableLog;
  readonly #collections = new Map<string, Map<string, Document>>();
  readonly #history: ChangeLog;
  readonly #compactAfterBytes: number;
  /** File size after the last compaction (or at open). */
  #compactedSize = 0;
  #compacting: Promise<void> | undefined;
  readonly #sinks = new Set<ChangeSink>();
  /** Changes made in memory but not yet durable, in order. */
  #unpublished: ChangeRecord[] = [];
  #sequence = 0;
  #clusterTime: Timestamp = { t: 0, i: 0 };
  #closed = false;

  private constructor(directory: string, log: DurableLog, options: EmbeddedStoreOptions) {
    this.directory = directory;
    this.#log = log;
    this.#history = new ChangeLog({ ...DEFAULT_STORE_RETENTION, ...options.retention });
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    if (!(this.#compactAfterBytes > 0)) throw new RangeError('compactAfterBytes must be positive');
  }

  /** Open (or create) a store in `directory`: load its snapshot and replay the changes after it. */
  static async open(directory: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    await mkdir(directory, { recursive: true });
    const { log, payloads } = await DurableLog.open(join(directory, 'changes.log'), options.sync === undefined ? {} : { sync: options.sync });
    let store: EmbeddedStore;
    try {
      store = new EmbeddedStore(directory, log, options);
      store.#load(payloads);
    } catch (error) {
      await log.close();
      throw error;
    }
    store.#compactedSize = log.size;
    return store;
  }

  /** A database handle. */
  db(name: string): EmbeddedDb {
    return new EmbeddedDb(this, name);
  }

  /** Number of changes in the retained history. */
  get changeCount(): number {
    return this.#history.length;
  }

  /** Token data of the position the retained history starts after (older tokens get 286). */
  get historyOrigin(): string {
    return this.#history.origin;
  }

  /** Bytes in the change log file. */
  get logSize(): number {
    return this.#log.size;
  }

  /**
   * Rewrite the log file as a snapshot of the documents plus the retained history, dropping the
   * older changes from disk. Writes go on meanwhile; crash-safe at every step (see `DurableLog`).
   * Runs by itself as the file grows (see `compactAfterBytes`).
   */
  compact(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the store is closed'));
    this.#compacting ??= this.#compact().finally(() => {
      this.#compacting = undefined;
    });
    return this.#compacting;
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
      this.#maybeCompact();
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
    sink.append(this.#history.records());
    this.#sinks.add(sink);
    const originTime = this.#history.originTime;
    return {
      origin: this.#history.origin,
      ...(originTime === undefined ? {} : { originTime }),
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
    await this.#compacting?.catch(() => undefined);
    await this.#log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #load(payloads: readonly Uint8Array[]): void {
    let header: SnapshotHeader | undefined;
    let chunks = 0;
    for (const [index, payload] of payloads.entries()) {
      const value = decodeStored(payload);
      if (index === 0 && isHeader(value)) {
        header = value;
        this.#sequence = header.sequence;
        this.#clusterTime = header.clusterTime;
        this.#history.setOrigin(header.origin, header.originTime);
      } else if (header && typeof value === 'object' && value !== null && '$documents' in value) {
        const { $documents: [db, coll], list } = value as DocumentsChunk;
        const documents = this.collection(db, coll, true);
        for (const document of list) documents.set(idKey(document['_id']), document);
        chunks += 1;
      } else {
        const record = value as ChangeRecord;
        // Changes up to the snapshot are history only: their effects are in the snapshot.
        if (!header || record.token > header.through) {
          this.#sequence += 1;
          this.#clusterTime = record.clusterTime;
          this.#apply(record);
        }
        this.#history.append([record]);
      }
    }
    if (header && chunks !== header.chunks) {
      throw new Error(`the store snapshot in ${this.directory} is incomplete (${chunks} of ${header.chunks} parts)`);
    }
  }

  #maybeCompact(): void {
    if (this.#compacting || this.#closed) return;
    const grown = this.#log.size - this.#compactedSize;
    if (grown >= this.#compactAfterBytes && grown >= this.#compactedSize) {
      // A failed compaction leaves the old file in use; the next write tries again.
      this.compact().catch(() => undefined);
    }
  }

  async #compact(): Promise<void> {
    // Taken now, at the newest applied change; every change up to it is already queued for
    // the log, ahead of the rewrite, and every later one is queued after it.
    const history = [...this.#history.records(), ...this.#unpublished];
    const header: SnapshotHeader = {
      $snapshot: 1,
      through: history.at(-1)?.token ?? this.#history.headToken,
      sequence: this.#sequence,
      clusterTime: this.#clusterTime,
      origin: this.#history.origin,
      ...(this.#history.originTime === undefined ? {} : { originTime: this.#history.originTime }),
      chunks: 0,
    };
    const chunks: DocumentsChunk[] = [];
    for (const [key, documents] of this.#collections) {
      const [db = '', coll = ''] = key.split('\u0000');
      const list = [...documents.values()];
      for (let start = 0; start === 0 || start < list.length; start += CHUNK_DOCUMENTS) {
        chunks.push({ $documents: [db, coll], list: list.slice(start, start + CHUNK_DOCUMENTS) });
      }
    }
    await this.#log.rewrite(function* () {
      yield encodeStored({ ...header, chunks: chunks.length });
      for (const chunk of chunks) yield encodeStored(chunk as unknown as Record<string, unknown>);
      for (const record of history) yield encodeStored(record);
    });
    this.#compactedSize = this.#log.size;
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
    this.#history.append(ready);
    for (const sink of this.#sinks) sink.append(ready);
  }
}
