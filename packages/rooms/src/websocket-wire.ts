import {
  connectWebSocket,
  type BaseTransportOptions,
  type StandardWebSocketConstructor,
  type Transport,
} from '@rt/transport';
import type { IncomingChannel, Wire, WireListener, WireOpenOptions } from './wire.js';

/** Options for `websocket()`: where the server is and how to reach it. */
export interface WebSocketWireOptions extends BaseTransportOptions {
  /** Server host. Default `127.0.0.1`. */
  host?: string;
  /** Server port. For `bind`, 0 (the default) picks a free one; `connect` then uses the bound port. */
  port?: number;
  /** Full base URL (`wss://example.com/collab`); overrides host, port, secure and path for clients. */
  url?: string;
  /** Use `wss:` when building the URL from host and port. Default `false`. */
  secure?: boolean;
  /** URL path prefix before the room id. Default none: the room id is the whole path, as in y-websocket. */
  path?: string;
  /** Query parameter that carries the token. Default `token`. */
  tokenParam?: string;
  /** Extra query parameters sent on every connection. */
  params?: Record<string, string>;
  /** WebSocket class for clients; defaults to the global one (in Node: the `ws` package). */
  WebSocket?: StandardWebSocketConstructor;
  /** Subprotocols offered by clients. */
  protocols?: string[];
  /** Extra HTTP headers for the upgrade request (Node clients only). */
  headers?: Record<string, string>;
  /** Largest incoming message in bytes. Default 16 MiB. */
  maxPayload?: number;
}

/** Listening half of the WebSocket wire, provided by the Node entry. */
export type WebSocketListen = (
  wire: WebSocketWire,
  onChannel: (incoming: IncomingChannel) => void,
) => Promise<WireListener>;

/** Default query parameter carrying the token. */
export const DEFAULT_TOKEN_PARAM = 'token';

/**
 * The WebSocket wire, compatible with y-websocket: the room id is the URL path after the
 * optional prefix, the token a query parameter. Clients work everywhere; listening needs
 * the Node entry of `@rt/rooms`.
 */
export class WebSocketWire implements Wire {
  readonly name = 'websocket';
  /** The options this wire was made with. */
  readonly options: Readonly<WebSocketWireOptions>;
  /** The port a `bind` on this wire listens on, once bound. */
  boundPort: number | undefined;
  readonly #listen: WebSocketListen | undefined;

  constructor(options: WebSocketWireOptions = {}, listen?: WebSocketListen) {
    this.options = { ...options };
    this.#listen = listen;
  }

  /** The URL a client opens for `roomId` with `token`. */
  roomUrl(roomId: string, token?: string): string {
    const url = new URL(this.#baseUrl());
    const prefix = url.pathname.replace(/\/+$/, '');
    url.pathname = `${prefix}/${encodeRoomPath(roomId)}`;
    for (const [name, value] of Object.entries(this.options.params ?? {})) url.searchParams.set(name, value);
    if (token !== undefined) url.searchParams.set(this.options.tokenParam ?? DEFAULT_TOKEN_PARAM, token);
    return url.toString();
  }

  open(roomId: string, options: WireOpenOptions = {}): Promise<Transport> {
    const { host: _host, port: _port, url: _url, secure: _secure, path: _path, tokenParam: _tp, params: _params, ...rest } =
      this.options;
    return connectWebSocket(this.roomUrl(roomId, options.token), {
      ...rest,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  listen(onChannel: (incoming: IncomingChannel) => void): Promise<WireListener> {
    if (!this.#listen) {
      return Promise.reject(new Error('listening on the websocket wire needs the Node entry of @rt/rooms'));
    }
    return this.#listen(this, onChannel);
  }

  #baseUrl(): string {
    const { url, host = '127.0.0.1', secure = false, path = '' } = this.options;
    if (url !== undefined) return url;
    const port = this.options.port || this.boundPort;
    if (!port) throw new Error('the websocket wire needs a port (or a url) to connect to');
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return `${secure ? 'wss' : 'ws'}://${hostPart}:${port}${path}`;
  }
}

/** Percent-encode a room id for a URL path, keeping `/` so nested names read naturally. */
export function encodeRoomPath(roomId: string): string {
  return roomId.split('/').map(encodeURIComponent).join('/');
}

/** Inverse of `encodeRoomPath`; `undefined` when the path is not valid percent-encoding. */
export function decodeRoomPath(path: string): string | undefined {
  try {
    return path.split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

/** Create a WebSocket wire for clients (see `WebSocketWire`). */
export function websocket(options: WebSocketWireOptions = {}): WebSocketWire {
  return new WebSocketWire(options);
}
