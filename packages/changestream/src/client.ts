import {
  ClosedError,
  ConnectionError,
  ReconnectPolicy,
  connectWebSocket,
  delay,
  type ReconnectPolicyOptions,
  type StandardWebSocketConstructor,
  type Transport,
} from '@rt/transport';
import { ChangeStream, type StreamHost, type StreamTarget } from './change-stream.js';
import { ClientConnection } from './connection.js';
import type { ChangeStreamDocument, Document, WatchOptions } from './types.js';

/** Opens a transport to a server (the default opens a WebSocket). */
export type Connector = (url: string, options: { signal: AbortSignal; timeoutMs: number }) => Promise<Transport>;

/** Options of a `ChangeStreamClient`. */
export interface ChangeStreamClientOptions {
  /** How to open a transport; defaults to a WebSocket (`ws` in Node, the global one in browsers). */
  connect?: Connector;
  /** WebSocket class for the default connector. */
  WebSocket?: StandardWebSocketConstructor;
  /** Extra upgrade headers for the default connector (Node only). */
  headers?: Record<string, string>;
  /** How long to keep trying to reach a server before failing (default 30 000 ms). */
  serverSelectionTimeoutMS?: number;
  /** Limit for one connection attempt (default 10 000 ms). */
  connectTimeoutMS?: number;
  /** Time allowed for a reply (added to a getMore's `maxAwaitTimeMS`; default 30 000 ms). */
  socketTimeoutMS?: number;
  /** Backoff between connection attempts (default 50 ms doubling up to 1 s). */
  reconnect?: ReconnectPolicyOptions;
  /** Ask for the next batch while the current one is consumed (default true). */
  pipelining?: boolean;
}

/** A database handle of a client: watch the database, or one of its collections. */
export class ChangeStreamDb {
  readonly #client: ChangeStreamClient;
  /** The database name. */
  readonly databaseName: string;

  constructor(client: ChangeStreamClient, name: string) {
    this.#client = client;
    this.databaseName = name;
  }

  /** A collection handle. */
  collection<TSchema extends Document = Document>(name: string): ChangeStreamCollection<TSchema> {
    return new ChangeStreamCollection<TSchema>(this.#client, this.databaseName, name);
  }

  /** Watch every collection of this database. */
  watch<TChange = ChangeStreamDocument>(pipeline: readonly Document[] = [], options: WatchOptions = {}): ChangeStream<TChange> {
    return this.#client.openStream<TChange>({ db: this.databaseName }, pipeline, options);
  }
}

/** A collection handle of a client. */
export class ChangeStreamCollection<TSchema extends Document = Document> {
  readonly #client: ChangeStreamClient;
  /** The database name. */
  readonly dbName: string;
  /** The collection name. */
  readonly collectionName: string;

  constructor(client: ChangeStreamClient, db: string, name: string) {
    this.#client = client;
    this.dbName = db;
    this.collectionName = name;
  }

  /** Watch this collection. */
  watch<TChange = ChangeStreamDocument<TSchema>>(pipeline: readonly Document[] = [], options: WatchOptions = {}): ChangeStream<TChange> {
    return this.#client.openStream<TChange>({ db: this.dbName, coll: this.collectionName }, pipeline, options);
  }
}

/**
 * A change stream client (Motor's `AsyncIOMotorClient` for change streams). It connects on
 * demand, shares one connection between its streams, and reconnects when a stream resumes.
 */
export class ChangeStreamClient implements AsyncDisposable {
  /** The server URL. */
  readonly url: string;
  readonly #connector: Connector;
  readonly #serverSelectionTimeoutMS: number;
  readonly #connectTimeoutMS: number;
  readonly #policy: ReconnectPolicy;
  readonly #host: StreamHost;
  readonly #streams = new Set<ChangeStream<unknown>>();
  readonly #closing = new AbortController();
  #connection: Promise<ClientConnection> | undefined;
  #current: ClientConnection | undefined;

  constructor(url: string, options: ChangeStreamClientOptions = {}) {
    this.url = url;
    this.#connector =
      options.connect ??
      ((target, { signal, timeoutMs }) =>
        connectWebSocket(target, {
          signal,
          timeoutMs,
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
          ...(options.headers ? { headers: options.headers } : {}),
        }));
    this.#serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? 30_000;
    this.#connectTimeoutMS = options.connectTimeoutMS ?? 10_000;
    this.#policy = new ReconnectPolicy({ initialDelayMs: 50, maxDelayMs: 1000, factor: 2, jitter: 0.2, ...options.reconnect });
    this.#host = {
      acquire: (signal) => this.#acquire(signal),
      socketTimeoutMS: options.socketTimeoutMS ?? 30_000,
      serverSelectionTimeoutMS: this.#serverSelectionTimeoutMS,
      pipelining: options.pipelining ?? true,
      release: (stream) => this.#streams.delete(stream),
    };
  }

  /** Create a client and wait until it has reached the server. */
  static async connect(url: string, options: ChangeStreamClientOptions = {}): Promise<ChangeStreamClient> {
    const client = new ChangeStreamClient(url, options);
    await client.#acquire(client.#closing.signal);
    return client;
  }

  /** A database handle. */
  db(name: string): ChangeStreamDb {
    return new ChangeStreamDb(this, name);
  }

  /** Watch every database. */
  watch<TChange = ChangeStreamDocument>(pipeline: readonly Document[] = [], options: WatchOptions = {}): ChangeStream<TChange> {
    return this.openStream<TChange>({}, pipeline, options);
  }

  /** Open a stream on a target (used by the database and collection handles). */
  openStream<TChange>(target: StreamTarget, pipeline: readonly Document[], options: WatchOptions): ChangeStream<TChange> {
    if (this.#closing.signal.aborted) throw new ClosedError('the client is closed');
    const stream = new ChangeStream<TChange>(this.#host, target, pipeline, options);
    this.#streams.add(stream as ChangeStream<unknown>);
    return stream;
  }

  /** Close every stream and the connection. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    await Promise.all([...this.#streams].map((stream) => stream.close()));
    this.#closing.abort(new ClosedError('the client is closed'));
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #acquire(signal: AbortSignal): Promise<ClientConnection> {
    if (this.#current?.usable) return this.#current;
    if (!this.#connection) {
      const attempt = this.#connect();
      this.#connection = attempt;
      attempt.then(
        (connection) => {
          this.#current = connection;
        },
        () => {
          if (this.#connection === attempt) this.#connection = undefined;
        },
      );
    }
    const connection = await this.#connection;
    if (connection.usable) return connection;
    this.#connection = undefined;
    this.#current = undefined;
    return this.#acquire(signal);
  }

  /** Keep trying to connect until the server selection timeout runs out. */
  async #connect(): Promise<ClientConnection> {
    const deadline = Date.now() + this.#serverSelectionTimeoutMS;
    const signal = this.#closing.signal;
    let lastError: unknown;
    for (let attempt = 0; ; attempt += 1) {
      if (signal.aborted) throw new ClosedError('the client is closed');
      const remaining = deadline - Date.now();
      try {
        const transport = await this.#connector(this.url, { signal, timeoutMs: Math.max(1, Math.min(this.#connectTimeoutMS, remaining)) });
        return new ClientConnection(transport);
      } catch (error) {
        lastError = error;
      }
      const wait = this.#policy.delayFor(attempt);
      if (Date.now() + wait >= deadline) break;
      await delay(wait, signal);
    }
    throw new ConnectionError(
      `no server reachable at ${this.url} within ${this.#serverSelectionTimeoutMS} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { cause: lastError },
    );
  }
}
