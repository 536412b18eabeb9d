import {
  type ConnectionInfo,
  ContentLengthFramer,
  type FramerFactory,
  type Listener,
  listenTcp,
  listenWebSocket,
  NewlineFramer,
  type Transport,
} from '@rt/transport';
import type { Server as HttpServer } from 'node:http';
import type { TlsOptions } from 'node:tls';
import { DEFAULT_MAX_MESSAGE_SIZE } from './dial.js';
import type { AttachableSession } from './session-types.js';
import type { SessionOptions } from './session-options.js';

/** Makes the session for one accepted connection. */
export type SessionFactory = (info: ConnectionInfo) => AttachableSession;

/** WebSocket listening options. */
export interface WebSocketServeOptions {
  /** Accept upgrades on this path only. */
  path?: string;
  /** Subprotocols offered. */
  protocols?: string[];
  /** Share this HTTP server instead of binding `host`/`port`. */
  server?: HttpServer;
  /**
   * Serve `wss://` with these TLS options (certificate and key) when no `server` is given.
   * Default: the server's `tls` option; `false` serves plain `ws://` even when it is set.
   */
  tls?: TlsOptions | false;
}

/** Options of a `Server`: where to listen, how to frame, and the defaults for its sessions. */
export interface ServerOptions extends Omit<SessionOptions, 'handlers'> {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Creates the framer for each TCP connection. Default: newline framing with `maxMessageSize`. */
  framer?: FramerFactory;
  /** Largest incoming message in bytes. Default 1000000. */
  maxMessageSize?: number;
  /** What to do with a larger message: close the connection with 1009 (default) or skip it. */
  oversize?: 'close' | 'skip';
  /** Serve TLS (`tls://`, or `wss://` with `websocket`) with these options (certificate and key). */
  tls?: TlsOptions;
  /** Serve WebSocket instead of TCP from `listen()` (`true`, or WebSocket options). */
  websocket?: boolean | WebSocketServeOptions;
}

/** Where a server listens. */
export interface ServerAddress {
  /** Bound host. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** A URL clients can `connect()` to. */
  readonly url: string;
}

/**
 * Accepts JSON-RPC connections over TCP, TLS or WebSocket and runs one session per
 * connection: `const server = new Server(() => new MySession(), { port: 0 }); await server.listen();`
 */
export class Server {
  readonly #factory: SessionFactory;
  readonly #options: ServerOptions;
  readonly #listeners: Listener[] = [];
  readonly #sessions = new Set<AttachableSession>();
  #closing: Promise<void> | undefined;

  constructor(sessionFactory: SessionFactory, options: ServerOptions = {}) {
    this.#factory = sessionFactory;
    this.#options = options;
  }

  /** Sessions currently connected. */
  get sessions(): ReadonlySet<AttachableSession> {
    return this.#sessions;
  }

  /** Start listening (TCP, or WebSocket with the `websocket` option); resolves the bound address. */
  async listen(): Promise<ServerAddress> {
    const options = this.#options;
    const websocket = options.websocket;
    if (websocket) {
      return this.listenWs({ ...(websocket === true ? {} : websocket), port: options.port ?? 0 });
    }
    const maxSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    const framer: FramerFactory = options.framer ?? (() => new NewlineFramer({ maxSize }));
    const contentLength = framer() instanceof ContentLengthFramer;
    const listener = await listenTcp({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      framer,
      text: false,
      onOversize: options.oversize ?? 'close',
      ...(options.tls ? { tls: options.tls } : {}),
    });
    return this.#serve(listener, contentLength);
  }

  /**
   * Also (or instead) accept WebSocket connections, on `options.port` (default 0: a free
   * port) of the server's host; resolves the bound address.
   */
  async listenWs(options: WebSocketServeOptions & { host?: string; port?: number } = {}): Promise<ServerAddress> {
    const tls = options.tls ?? this.#options.tls;
    const listener = await listenWebSocket({
      host: options.host ?? this.#options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxPayload: this.#options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(options.protocols ? { protocols: options.protocols } : {}),
      ...(options.server ? { server: options.server } : tls ? { tls } : {}),
    });
    return this.#serve(listener, false);
  }

  /** Stop listening, close every session, and resolve once all are closed. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #serve(listener: Listener, contentLength: boolean): ServerAddress {
    if (this.#closing) {
      void listener.close();
      throw new Error('the server is closed');
    }
    this.#listeners.push(listener);
    const { framer: _framer, host: _host, port: _port, tls: _tls, websocket: _ws, oversize: _o, ...defaults } = this.#options;
    const inherited: SessionOptions = contentLength && defaults.cancelMethod === undefined
      ? { ...defaults, cancelMethod: '$/cancelRequest' }
      : defaults;
    listener.onConnection((transport, info) => this.#accept(transport, info, inherited));
    return { host: listener.address.host, port: listener.address.port, url: listener.url };
  }

  #accept(transport: Transport, info: ConnectionInfo, inherited: SessionOptions): void {
    let session: AttachableSession;
    try {
      session = this.#factory(info);
      session.attach(transport, inherited);
    } catch (error) {
      transport.abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#sessions.add(session);
    void session.closed.then(() => this.#sessions.delete(session));
  }

  async #shutdown(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => listener.close()));
    await Promise.all([...this.#sessions].map((session) => session.close({ forceAfterMs: 1000 })));
  }
}
