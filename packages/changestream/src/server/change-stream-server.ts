import { listenWebSocket, type ConnectionInfo, type Listener, type Transport } from '@rt/transport';
import type { Document } from '../types.js';
import { ChangeLog } from './change-log.js';
import type { DocumentLookup } from './render.js';
import type { RetentionPolicy } from './retention.js';
import { Session, type Authorize } from './session.js';
import type { ChangeRecord, ChangeSource, SourceAttachment } from './source.js';

/** Options of a `ChangeStreamServer`. */
export interface ChangeStreamServerOptions {
  /** Where changes come from (an `EmbeddedStore`, `PostgresSource`, `RedisStreamSource`, ...). */
  source: ChangeSource;
  /** Host to bind (default `127.0.0.1`). */
  host?: string;
  /** Port to bind (default 0: any free port). */
  port?: number;
  /** WebSocket path to serve (default: any). */
  path?: string;
  /** Decide whether each watch request may proceed; a refusal answers `Unauthorized` (13). */
  authorize?: Authorize;
  /** Open cursors one connection may hold (default 100); more are refused with code 90001. */
  maxCursorsPerConnection?: number;
  /** Upper bound on a getMore's `maxAwaitTimeMS` (default 10 000); larger values are clamped. */
  maxAwaitTimeMS?: number;
  /** Batch size when a request names none (default 1000). */
  defaultBatchSize?: number;
  /** Upper bound on a batch size (default 10 000). */
  maxBatchSize?: number;
  /**
   * How much of the source's history the server keeps in memory for resuming (default
   * `DEFAULT_LOG_RETENTION`: 1 000 000 changes, 256 MiB); older tokens and times get 286.
   */
  retention?: RetentionPolicy;
  /** Shorthand for `retention.retainChanges`. */
  retain?: number;
  /** Largest incoming message in bytes (default 1 MiB). */
  maxPayload?: number;
}

/**
 * A change stream gateway: tails one source into a retained log and serves change stream
 * cursors over WebSocket (or any transport handed to `accept`).
 */
export class ChangeStreamServer {
  readonly #options: ChangeStreamServerOptions;
  readonly #log: ChangeLog;
  readonly #sessions = new Set<{ transport: Transport; session: Session }>();
  #opening: Promise<SourceAttachment> | undefined;
  #listener: Listener | undefined;
  #closing: Promise<void> | undefined;
  #cursorIds = 0;

  constructor(options: ChangeStreamServerOptions) {
    this.#options = options;
    this.#log = new ChangeLog({ ...options.retention, ...(options.retain === undefined ? {} : { retainChanges: options.retain }) });
  }

  /** Open the source (once) and start listening. Resolves the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    await this.open();
    if (!this.#listener) {
      const listener = await listenWebSocket({
        host: this.#options.host ?? '127.0.0.1',
        port: this.#options.port ?? 0,
        ...(this.#options.path === undefined ? {} : { path: this.#options.path }),
        maxPayload: this.#options.maxPayload ?? 1024 * 1024,
      });
      this.#listener = listener;
      listener.onConnection((transport, info) => this.accept(transport, info));
    }
    return { host: this.#listener.address.host, port: this.#listener.address.port };
  }

  /** `ws://host:port` once listening. */
  get url(): string | undefined {
    const address = this.#listener?.address;
    return address ? `ws://${address.host}:${address.port}` : undefined;
  }

  /** Open the source without listening (for `accept`-only use). Idempotent. */
  open(): Promise<void> {
    this.#opening ??= this.#options.source.attach(this.#log).then((attachment) => {
      this.#log.setOrigin(attachment.origin, attachment.originTime);
      return attachment;
    });
    return this.#opening.then(() => undefined);
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Serve one connection (from the listener, or any transport such as a memory pair). */
  accept(transport: Transport, info: ConnectionInfo = {}): void {
    if (this.#closing) {
      transport.abort();
      return;
    }
    const session = new Session(this.#context(), transport, info.request);
    const entry = { transport, session };
    this.#sessions.add(entry);
    void session.run().finally(() => this.#sessions.delete(entry));
  }

  /** Stop listening, close every connection and the source. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    await this.#listener?.close();
    await Promise.all([...this.#sessions].map(({ transport }) => transport.close(1001, 'server shutting down')));
    const attachment = await this.#opening?.catch(() => undefined);
    await attachment?.close();
  }

  #context() {
    const source = this.#options.source;
    const lookup: DocumentLookup | undefined = source.lookup
      ? (record: ChangeRecord): Promise<Document | null> =>
          record.documentKey === undefined ? Promise.resolve(null) : (source.lookup as NonNullable<ChangeSource['lookup']>).call(source, record.ns, record.documentKey)
      : undefined;
    return {
      log: this.#log,
      lookup,
      authorize: this.#options.authorize,
      maxCursorsPerConnection: this.#options.maxCursorsPerConnection ?? 100,
      maxAwaitTimeMS: this.#options.maxAwaitTimeMS ?? 10_000,
      defaultBatchSize: this.#options.defaultBatchSize ?? 1000,
      maxBatchSize: this.#options.maxBatchSize ?? 10_000,
      nextCursorId: () => (this.#cursorIds += 1),
    };
  }
}
