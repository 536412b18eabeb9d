import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenWebSocket, type Listener, type Transport, type WebSocketCompression, CLOSE_GOING_AWAY } from '@rt/transport';
import { ejson as defaultEJSON } from '../ejson.js';
import { SUPPORTED_VERSIONS } from '../versions.js';
import { createLoginMethod, createLogoutMethod } from './login.js';
import { clientAddressOf } from './client-address.js';
import { RateLimiter } from './rate-limiter.js';
import { Session, type ClientInfo, type SessionConfig } from './session.js';
import { checkSockJSRoute, installSockJS, sockjsSettings, type SockJSEndpoint, type SockJSSettings } from './sockjs-endpoint.js';
import type { DDPConnection, DDPServerOptions, ErrorContext, ListenOptions, MethodHandler, PublishHandler } from './types.js';

const DEFAULT_PATH = '/websocket';

/**
 * A DDP server: methods and publications in Meteor's style, a per-client merge box,
 * version negotiation, heartbeats, logins, per-connection limits and rate limits, over WebSocket at
 * `/websocket` and SockJS at `/sockjs` (its own port or a shared HTTP server) or over any `Transport`.
 */
export class DDPServer {
  readonly #config: SessionConfig;
  readonly #methods = new Map<string, MethodHandler>();
  readonly #publications = new Map<string, PublishHandler>();
  readonly #universal: PublishHandler[] = [];
  readonly #sessions = new Set<Session>();
  readonly #listeners: Listener[] = [];
  readonly #sockjs: SockJSSettings | undefined;
  readonly #sockjsEndpoints: SockJSEndpoint[] = [];
  /** HTTP servers `listen()` created (closed with the DDP server). */
  readonly #ownServers: HttpServer[] = [];
  #closing: Promise<void> | undefined;
  readonly #forwardedCount: number;
  readonly #compression: WebSocketCompression;

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
    this.#forwardedCount = options.httpForwardedCount ?? 0;
    this.#compression = options.compression ?? false;
    if (!Number.isInteger(this.#forwardedCount) || this.#forwardedCount < 0) {
      throw new RangeError('httpForwardedCount must be a non-negative integer');
    }
    this.#sockjs = sockjsSettings(options.sockjs, this.#config.maxMessageBytes);
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

  /**
   * Listen on `host:port` (port 0 picks one): WebSocket at `path` and, unless the `sockjs`
   * option is `false`, SockJS at its prefix. Resolves the bound address.
   */
  async listen(options: ListenOptions = {}): Promise<{ host: string; port: number }> {
    const host = options.host ?? '127.0.0.1';
    const path = options.path ?? DEFAULT_PATH;
    const maxPayload = this.#config.maxMessageBytes;
    if (!this.#sockjs) {
      const listener = await listenWebSocket({ host, port: options.port ?? 0, path, maxPayload, compression: this.#compression });
      this.#adopt(listener);
      return { host: listener.address.host, port: listener.address.port };
    }
    // Every route is in place before the port opens: no client meets a half-served port.
    const server = createServer(upgradeRequired);
    checkSockJSRoute(server, this.#sockjs, path);
    const listener = await listenWebSocket({ server, host, path, maxPayload, compression: this.#compression });
    const endpoint = await installSockJS(server, this.#sockjs, (transport, info) => this.accept(transport, info));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await Promise.all([listener.close(), endpoint.close()]);
      throw error;
    }
    this.#ownServers.push(server);
    this.#adopt(listener);
    this.#sockjsEndpoints.push(endpoint);
    return { host, port: (server.address() as AddressInfo).port };
  }

  /**
   * Serve DDP on an HTTP server that is already listening: WebSocket on `path` (default
   * `/websocket`) and SockJS at its prefix (which goes before the server's other request
   * handlers, so attach after adding yours).
   */
  async attach(server: HttpServer, options: { path?: string } = {}): Promise<void> {
    const path = options.path ?? DEFAULT_PATH;
    if (this.#sockjs) checkSockJSRoute(server, this.#sockjs, path);
    const listener = await listenWebSocket({ server, path, maxPayload: this.#config.maxMessageBytes, compression: this.#compression });
    this.#adopt(listener);
    if (this.#sockjs) {
      this.#sockjsEndpoints.push(await installSockJS(server, this.#sockjs, (transport, info) => this.accept(transport, info)));
    }
  }

  /** Serve one client over any message transport (an in-memory pair, a custom listener, ...). */
  accept(transport: Transport, info: ClientInfo = {}): void {
    if (this.#closing) {
      transport.abort();
      return;
    }
    const clientAddress = clientAddressOf(info.remoteAddress, info.headers, this.#forwardedCount);
    const session = new Session(this.#config, transport, { ...info, remoteAddress: clientAddress });
    this.#sessions.add(session);
    void session.run().finally(() => this.#sessions.delete(session));
  }

  /** Stop listening and close every connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#listeners, ...this.#sockjsEndpoints].map((listener) => listener.close()));
      await Promise.all([...this.#sessions].map((session) => session.close(CLOSE_GOING_AWAY, 'server shutting down')));
      await Promise.all(this.#ownServers.map(closeHttpServer));
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

/** What the server's own HTTP port answers outside the WebSocket path and the SockJS prefix. */
function upgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket upgrade required');
}

function closeHttpServer(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
