import type { IncomingMessage } from 'node:http';
import { AsyncQueue } from './async-queue.js';
import { CLOSE_GOING_AWAY, type Transport } from './transport.js';

/** Where a listener is bound. */
export interface ListenerAddress {
  /** The bound host (as given, e.g. `127.0.0.1`). */
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
}

/** What a listener knows about a new connection. */
export interface ConnectionInfo {
  /** The peer's address. */
  readonly remoteAddress?: string;
  /** The HTTP upgrade request (WebSocket listeners only). */
  readonly request?: IncomingMessage;
}

/** Handles each accepted connection. */
export type ConnectionHandler = (transport: Transport, info: ConnectionInfo) => void;

/**
 * Accepts connections and yields them as `Transport`s, either through `onConnection` or
 * by async iteration (not both). Closing the listener closes its open transports.
 */
export interface Listener extends AsyncIterable<Transport>, AsyncDisposable {
  /** The bound address. */
  readonly address: ListenerAddress;
  /** A URL clients can connect to (`ws://host:port/path`, `tcp://host:port`, ...). */
  readonly url: string;
  /** Number of open transports accepted by this listener. */
  readonly connectionCount: number;
  /** Deliver every connection (including any already queued) to `handler`. */
  onConnection(handler: ConnectionHandler): void;
  /** Stop accepting and close every open transport with 1001 (going away). */
  close(): Promise<void>;
}

/** The bookkeeping every listener shares: delivery, tracking, shutdown of transports. */
export abstract class BaseListener implements Listener {
  abstract readonly address: ListenerAddress;
  abstract readonly url: string;
  readonly #open = new Set<Transport>();
  readonly #queue = new AsyncQueue<Transport>({ highWaterMark: Number.MAX_SAFE_INTEGER });
  /** What was known about each queued connection, handed over with it to a late handler. */
  readonly #queuedInfo = new WeakMap<Transport, ConnectionInfo>();
  #handler: ConnectionHandler | undefined;
  #closing: Promise<void> | undefined;

  get connectionCount(): number {
    return this.#open.size;
  }

  /** True once `close()` was called. */
  protected get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  onConnection(handler: ConnectionHandler): void {
    this.#handler = handler;
    for (let queued = this.#queue.tryShift(); queued; queued = this.#queue.tryShift()) {
      handler(queued, this.#queuedInfo.get(queued) ?? {});
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Transport> {
    return this.#queue[Symbol.asyncIterator]();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Subclasses call this with each accepted transport. */
  protected accept(transport: Transport, info: ConnectionInfo): void {
    if (this.#closing) {
      transport.abort();
      return;
    }
    this.#open.add(transport);
    void transport.closed.then(() => this.#open.delete(transport));
    if (this.#handler) {
      this.#handler(transport, info);
      return;
    }
    this.#queuedInfo.set(transport, info);
    this.#queue.push(transport);
  }

  /** Stop accepting new connections at the socket level. */
  protected abstract stopAccepting(): Promise<void>;

  async #shutdown(): Promise<void> {
    this.#queue.end();
    const open = [...this.#open];
    await Promise.all([this.stopAccepting(), ...open.map((transport) => transport.close(CLOSE_GOING_AWAY, 'server shutting down'))]);
  }
}
