import type { Server as HttpServer } from 'node:http';
import { listenWebSocket, type Listener, type Transport, CLOSE_GOING_AWAY } from '@rt/transport';
import { ejson as defaultEJSON } from '../ejson.js';
import { SUPPORTED_VERSIONS } from '../versions.js';
import { createLoginMethod, createLogoutMethod } from './login.js';
import { RateLimiter } from './rate-limiter.js';
import { Session, type ClientInfo, type SessionConfig } from './session.js';
import type { DDPConnection, DDPServerOptions, ErrorContext, ListenOptions, MethodHandler, PublishHandler } from './types.js';

const DEFAULT_PATH = '/websocket';

/**
 * A DDP server: methods and publications in Meteor's style, a per-client merge box,
 * version negotiation, heartbeats, logins, per-connection limits and rate limits, over WebSocket at
 * `/websocket` (its own port or a path on a shared HTTP server) or over any `Transport`.
 */
export class DDPServer {
  readonly #config: SessionConfig;
  readonly #methods = new Map<string, MethodHandler>();
  readonly #publications = new Map<string, PublishHandler>();
  readonly #universal: PublishHandler[] = [];
  readonly #sessions = new Set<Session>();
  readonly #listeners: Listener[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: DDPServerOptions = {}) {
    const limits = options.limits ?? {};
    const onConnection = options.onConnection;
    const onError = options.onError ?? ((error: unknown, context: ErrorContext) => console.error('[ddp server]', context, error));
    this.#config = {
      ejson: options.ejson ?? defaultEJSON,
      versions: [...(options.versions ?? SUPPORTED_VERSIONS)],
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 15_000,
      maxMessageBytes: limits.maxMessageBytes ?? 1024 * 1024,
      maxSubscriptions: limits.maxSubscriptions ?? 1000,
      maxQueuedMessages: limits.maxQueuedMessages ?? 1000,
      maxBufferedBytes: limits.maxBufferedBytes ?? 64 * 1024 * 1024,
      methods: this.#methods,
      publications: this.#publications,
      universalPublications: this.#universal,
      rateLimiter: options.rateLimiter ?? new RateLimiter(),
      onConnection: (connection: DDPConnection) => onConnection?.(connection),
      reportError: onError,
    };
    if (this.#config.versions.length === 0) throw new RangeError('a DDP server needs at least one version');
    if (options.login) {
      this.#methods.set('login', createLoginMethod(options.login));
      this.#methods.set('logout', createLogoutMethod(options.logout));
    }
  }

  /**
   * The rate limits of this server's methods and subscriptions (Meteor's `DDPRateLimiter`):
   * `server.rateLimiter.addRule({ type: 'method', name: 'send' }, 5, 1000)`. Empty by default.
   */
  get rateLimiter(): RateLimiter {
    return this.#config.rateLimiter;
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Define methods. Throws when a name is already defined. */
  methods(definitions: Record<string, MethodHandler>): this {
    for (const [name, handler] of Object.entries(definitions)) {
      if (this.#methods.has(name)) throw new Error(`method '${name}' is already defined`);
      if (typeof handler !== 'function') throw new TypeError(`method '${name}' must be a function`);
      this.#methods.set(name, handler);
    }
    return this;
  }

  /**
   * Define a publication. With `null` as the name it is universal: it runs for every
   * connection without a subscription (and never sends `ready`).
   */
  publish(name: string | null, handler: PublishHandler): this {
    if (typeof handler !== 'function') throw new TypeError('a publication must be a function');
    if (name === null) {
      this.#universal.push(handler);
      return this;
    }
    if (this.#publications.has(name)) throw new Error(`publication '${name}' is already defined`);
    this.#publications.set(name, handler);
    return this;
  }

  /** Listen for WebSocket clients on `host:port` (port 0 picks one); resolves the bound address. */
  async listen(options: ListenOptions = {}): Promise<{ host: string; port: number }> {
    const listener = await listenWebSocket({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      path: options.path ?? DEFAULT_PATH,
      maxPayload: this.#config.maxMessageBytes,
    });
    this.#adopt(listener);
    return { host: listener.address.host, port: listener.address.port };
  }

  /** Serve DDP on `path` (default `/websocket`) of an existing HTTP server that is already listening. */
  async attach(server: HttpServer, options: { path?: string } = {}): Promise<void> {
    const listener = await listenWebSocket({ server, path: options.path ?? DEFAULT_PATH, maxPayload: this.#config.maxMessageBytes });
    this.#adopt(listener);
  }

  /** Serve one client over any message transport (an in-memory pair, a custom listener, ...). */
  accept(transport: Transport, info: ClientInfo = {}): void {
    if (this.#closing) {
      transport.abort();
      return;
    }
    const session = new Session(this.#config, transport, info);
    this.#sessions.add(session);
    void session.run().finally(() => this.#sessions.delete(session));
  }

  /** Stop listening and close every connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.#listeners.map((listener) => listener.close()));
      await Promise.all([...this.#sessions].map((session) => session.close(CLOSE_GOING_AWAY, 'server shutting down')));
    })();
    return this.#closing;
  }

  /** `await using server = new DDPServer(...)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #adopt(listener: Listener): void {
    this.#listeners.push(listener);
    listener.onConnection((transport, info) => {
      this.accept(transport, { remoteAddress: info.remoteAddress, headers: info.request?.headers });
    });
  }
}
