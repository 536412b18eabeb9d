import type { IncomingHttpHeaders, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerOptions as SockJSServerOptions } from 'sockjs';
import { CLOSE_GOING_AWAY, CLOSE_MESSAGE_TOO_BIG } from '@rt/transport';
import { SockJSTransport, type SockJSConnection } from './sockjs-transport.js';
import type { SockJSOptions } from './types.js';

/** Meteor's SockJS prefix. */
export const DEFAULT_SOCKJS_PREFIX = '/sockjs';

/** The SockJS settings in force, defaults applied. */
export interface SockJSSettings {
  readonly prefix: string;
  readonly websocket: boolean;
  readonly heartbeatDelayMs: number;
  readonly disconnectDelayMs: number;
  readonly jsessionid: boolean;
  readonly disableCors: boolean;
  readonly responseLimitBytes: number;
  readonly maxFrameBytes: number;
}

/** What the endpoint tells the server about a new SockJS client. */
export interface SockJSClientInfo {
  readonly remoteAddress: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** A request path segment SockJS accepts as a server or session id. */
const ID_SEGMENT = /^[^/.]+$/;
/** Requests that carry messages from the client rather than open a receiving request. */
const SEND_TYPES = new Set(['xhr_send', 'jsonp_send']);
/** `readyState` of an open sockjs connection. */
const SOCKJS_OPEN = 1;
const PREFIX_PATTERN = /^(\/[A-Za-z0-9._~-]+)+$/;

type RequestHandler = (request: IncomingMessage, target: ServerResponse | Duplex, head?: Buffer) => boolean;

/** The parts of a `sockjs` server the endpoint uses beyond `@types/sockjs`. */
interface SockJSServerLike {
  on(event: 'connection', listener: (connection: SockJSConnection | null) => void): unknown;
  listener(): { getHandler(): RequestHandler };
}

/** Prefixes served by active endpoints, per HTTP server. */
const prefixesByServer = new WeakMap<HttpServer, Set<string>>();

/** Resolve the `sockjs` option (`undefined` when SockJS is off). Throws on invalid settings. */
export function sockjsSettings(option: boolean | SockJSOptions | undefined, maxMessageBytes: number): SockJSSettings | undefined {
  if (option === false) return undefined;
  const options: SockJSOptions = option === true || option === undefined ? {} : option;
  const prefix = options.prefix ?? DEFAULT_SOCKJS_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new RangeError(`invalid SockJS prefix '${prefix}': use path segments such as '/sockjs' (no trailing slash)`);
  }
  const settings: SockJSSettings = {
    prefix,
    websocket: options.websocket ?? true,
    heartbeatDelayMs: options.heartbeatDelayMs ?? 45_000,
    disconnectDelayMs: options.disconnectDelayMs ?? 60_000,
    jsessionid: options.jsessionid ?? false,
    disableCors: options.disableCors ?? false,
    responseLimitBytes: options.responseLimitBytes ?? 128 * 1024,
    maxFrameBytes: options.maxFrameBytes ?? 8 * maxMessageBytes,
  };
  for (const key of ['heartbeatDelayMs', 'disconnectDelayMs', 'responseLimitBytes', 'maxFrameBytes'] as const) {
    if (!(settings[key] > 0) || !Number.isFinite(settings[key])) throw new RangeError(`SockJS ${key} must be a positive number`);
  }
  return settings;
}

/** Throw when SockJS at `settings.prefix` would clash with the WebSocket path or another endpoint on `server`. */
export function checkSockJSRoute(server: HttpServer, settings: SockJSSettings, websocketPath: string): void {
  const { prefix } = settings;
  if (websocketPath === prefix || websocketPath.startsWith(`${prefix}/`)) {
    throw new Error(`the WebSocket path ${websocketPath} lies under the SockJS prefix ${prefix}`);
  }
  if (prefixesByServer.get(server)?.has(prefix)) throw new Error(`a SockJS endpoint already serves ${prefix} on this HTTP server`);
}

/**
 * A SockJS endpoint on an HTTP server: `sockjs` (the server Meteor uses) with Meteor's
 * settings, each connection adapted to a `SockJSTransport`. It goes before the server's
 * other `request` and `upgrade` listeners for paths under its prefix, as Meteor's does.
 */
export class SockJSEndpoint {
  readonly #server: HttpServer;
  readonly #settings: SockJSSettings;
  readonly #handler: RequestHandler;
  /** Open transports of session-based SockJS transports, by session path (`/sockjs/<server>/<session>`). */
  readonly #sessions = new Map<string, SockJSTransport>();
  readonly #open = new Set<SockJSTransport>();
  #closing = false;

  /** Use `installSockJS()`. */
  constructor(
    server: HttpServer,
    settings: SockJSSettings,
    sockjs: SockJSServerLike,
    accept: (transport: SockJSTransport, info: SockJSClientInfo) => void,
  ) {
    this.#server = server;
    this.#settings = settings;
    this.#handler = sockjs.listener().getHandler();
    sockjs.on('connection', (connection) => {
      // sockjs can report a session that ended before it was announced as `null`.
      if (connection) this.#connected(connection, accept);
    });
    let prefixes = prefixesByServer.get(server);
    if (!prefixes) prefixesByServer.set(server, (prefixes = new Set()));
    prefixes.add(settings.prefix);
    for (const event of ['request', 'upgrade'] as const) this.#overshadow(event);
  }

  /**
   * Stop opening sessions and close the open ones (1001). Requests of sessions still closing
   * are served until their close frame went out; then every request passes to the server's
   * other listeners.
   */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      prefixesByServer.get(this.#server)?.delete(this.#settings.prefix);
    }
    await Promise.all([...this.#open].map((transport) => transport.close(CLOSE_GOING_AWAY, 'server shutting down')));
  }

  #connected(connection: SockJSConnection, accept: (transport: SockJSTransport, info: SockJSClientInfo) => void): void {
    // A session that ended before sockjs announced it would never report its end.
    if (connection.readyState !== SOCKJS_OPEN) return;
    const key = this.#sessionOf(connection.pathname ?? '')?.key;
    const transport = new SockJSTransport(connection, {
      onClosed: () => {
        this.#open.delete(transport);
        if (key !== undefined && this.#sessions.get(key) === transport) this.#sessions.delete(key);
      },
    });
    this.#open.add(transport);
    if (key !== undefined) this.#sessions.set(key, transport);
    if (this.#closing) {
      transport.abort();
      return;
    }
    accept(transport, { remoteAddress: connection.remoteAddress, headers: { ...connection.headers } });
  }

  /** Put this endpoint before the server's current listeners of `event`. */
  #overshadow(event: 'request' | 'upgrade'): void {
    const server = this.#server;
    const previous = server.listeners(event) as ((...args: unknown[]) => void)[];
    server.removeAllListeners(event);
    const upgrade = event === 'upgrade';
    server.on(event, (request: IncomingMessage, target: ServerResponse | Duplex, head?: Buffer) => {
      if (this.#route(request, target, head, upgrade)) return;
      for (const listener of previous) listener.call(server, request, target, head);
    });
  }

  /** Serve a request under the prefix; `false` passes it on. */
  #route(request: IncomingMessage, target: ServerResponse | Duplex, head: Buffer | undefined, upgrade: boolean): boolean {
    const pathname = pathnameOf(request.url);
    const { prefix } = this.#settings;
    if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return false;
    const session = this.#sessionOf(pathname);
    const transport = session && this.#sessions.get(session.key);
    if (this.#closing && !transport) return false;
    const sending = session !== undefined && SEND_TYPES.has(session.type);
    if (sending && !upgrade && !this.#admitBody(request, target as ServerResponse, transport)) return true;
    const handled = this.#handler(request, target, head);
    if (transport && !sending) transport.receiverArrived();
    return handled;
  }

  /**
   * Bound the body of a request carrying client messages (SockJS would buffer any size):
   * an oversized one is answered 413 and its session closed with 1009, like an oversized
   * WebSocket message.
   */
  #admitBody(request: IncomingMessage, response: ServerResponse, transport: SockJSTransport | undefined): boolean {
    const limit = this.#settings.maxFrameBytes;
    const refuse = (): void => {
      if (!response.headersSent) {
        response.writeHead(413, { 'Content-Type': 'text/plain; charset=UTF-8', Connection: 'close' });
        response.end('Payload too large\n');
      }
      response.once('finish', () => request.socket.destroy());
      void transport?.close(CLOSE_MESSAGE_TOO_BIG, 'message too large');
    };
    if (Number(request.headers['content-length']) > limit) {
      refuse();
      return false;
    }
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= limit) return;
      request.off('data', count);
      request.pause();
      refuse();
    };
    request.on('data', count);
    return true;
  }

  /** `{ key: '/prefix/<server>/<session>', type }` for a session request path. */
  #sessionOf(pathname: string): { key: string; type: string } | undefined {
    const { prefix } = this.#settings;
    if (!pathname.startsWith(`${prefix}/`)) return undefined;
    const [serverId, sessionId, type] = pathname.slice(prefix.length + 1).split('/');
    if (serverId === undefined || sessionId === undefined || type === undefined) return undefined;
    if (!ID_SEGMENT.test(serverId) || !ID_SEGMENT.test(sessionId)) return undefined;
    return { key: `${prefix}/${serverId}/${sessionId}`, type };
  }
}

/** Serve SockJS on `server` with `settings`; `accept` gets each new connection. */
export async function installSockJS(
  server: HttpServer,
  settings: SockJSSettings,
  accept: (transport: SockJSTransport, info: SockJSClientInfo) => void,
): Promise<SockJSEndpoint> {
  const sockjs = await import('sockjs');
  const options: SockJSServerOptions & { disable_cors: boolean; faye_server_options: { maxLength: number } } = {
    // The prefix goes into a regular expression inside sockjs.
    prefix: settings.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    websocket: settings.websocket,
    heartbeat_delay: settings.heartbeatDelayMs,
    disconnect_delay: settings.disconnectDelayMs,
    jsessionid: settings.jsessionid,
    disable_cors: settings.disableCors,
    response_limit: settings.responseLimitBytes,
    faye_server_options: { maxLength: settings.maxFrameBytes },
    log: () => undefined,
  };
  return new SockJSEndpoint(server, settings, sockjs.createServer(options) as unknown as SockJSServerLike, accept);
}

function pathnameOf(url: string | undefined): string {
  const end = (url ?? '/').search(/[?#]/);
  return end === -1 ? (url ?? '/') : (url ?? '/').slice(0, end);
}
