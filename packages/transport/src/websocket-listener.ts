import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { BaseTransportOptions } from './base-transport.js';
import { BaseListener, type ListenerAddress } from './listener.js';
import { NodeWebSocketTransport } from './node-websocket-transport.js';
import { deflateSetting } from './websocket-compression.js';
import type { WebSocketCompression } from './websocket-connect.js';

/** What an upgrade check answers: accept, or refuse (optionally with an HTTP status). */
export type UpgradeVerdict = boolean | { status: number; message?: string };

/** Options for `listenWebSocket`. */
export interface WebSocketListenOptions extends BaseTransportOptions {
  /** Interface to bind when no `server` is given. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind when no `server` is given; 0 (default) picks a free one. */
  port?: number;
  /** Serve `wss://` with these TLS options (certificate and key) when no `server` is given. */
  tls?: HttpsServerOptions;
  /** Share this HTTP server (several listeners can route different paths on one port). */
  server?: Server;
  /** Accept upgrades on this path only (default: every path not claimed by another listener). */
  path?: string;
  /** Subprotocols this server speaks. The first one the client offers that is in this list wins. */
  protocols?: string[];
  /** Refuse connections whose client offers none of `protocols` (default `false`: accept with none). */
  requireProtocol?: boolean;
  /** Inspect the upgrade request (origin, headers, token) before accepting it. */
  verifyUpgrade?: (request: IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>;
  /** Largest incoming message in bytes. Default 16 MiB. */
  maxPayload?: number;
  /** Accept permessage-deflate when a client offers it (default off). */
  compression?: WebSocketCompression;
}

type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Per HTTP server: the upgrade handlers by path, so several listeners share one port. */
const routesByServer = new WeakMap<Server, Map<string, UpgradeHandler>>();
const ANY_PATH = '*';

function routesFor(server: Server): Map<string, UpgradeHandler> {
  let routes = routesByServer.get(server);
  if (!routes) {
    const table = new Map<string, UpgradeHandler>();
    routes = table;
    routesByServer.set(server, table);
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const handler = table.get(path) ?? table.get(ANY_PATH);
      if (handler) handler(request, socket, head);
      else refuse(socket, 404, 'Not Found');
    });
  }
  return routes;
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A WebSocket listener yielding message transports. */
export class WebSocketListener extends BaseListener {
  readonly address: ListenerAddress;
  readonly url: string;
  readonly #server: Server;
  readonly #ownsServer: boolean;
  readonly #path: string;
  readonly #wss: WebSocketServer;

  /** Use `listenWebSocket()`. */
  constructor(server: Server, ownsServer: boolean, address: ListenerAddress, options: WebSocketListenOptions) {
    super();
    this.#server = server;
    this.#ownsServer = ownsServer;
    this.address = address;
    this.#path = options.path ?? ANY_PATH;
    const secure = options.tls !== undefined || 'setSecureContext' in server;
    this.url = `${secure ? 'wss' : 'ws'}://${address.host}:${address.port}${options.path ?? ''}`;
    const offered = options.protocols ?? [];
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? 16 * 1024 * 1024,
      perMessageDeflate: deflateSetting(options.compression),
      handleProtocols: (protocols: Set<string>) => {
        for (const protocol of protocols) if (offered.includes(protocol)) return protocol;
        return false;
      },
    });
    const routes = routesFor(server);
    if (routes.has(this.#path)) throw new Error(`a WebSocket listener already serves ${this.#path}`);
    routes.set(this.#path, (request, socket, head) => void this.#upgrade(request, socket, head, options));
  }

  protected async stopAccepting(): Promise<void> {
    routesByServer.get(this.#server)?.delete(this.#path);
    this.#wss.close();
    if (this.#ownsServer) {
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    }
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, options: WebSocketListenOptions): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.isClosing) return refuse(socket, 503, 'Service Unavailable');
    if (options.requireProtocol && options.protocols?.length) {
      const requested = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((item) => item.trim());
      if (!requested.some((protocol) => options.protocols?.includes(protocol))) {
        return refuse(socket, 400, 'Unsupported WebSocket Subprotocol');
      }
    }
    if (options.verifyUpgrade) {
      let verdict: UpgradeVerdict;
      try {
        verdict = await options.verifyUpgrade(request);
      } catch {
        verdict = { status: 500, message: 'Internal Server Error' };
      }
      if (verdict !== true) {
        const status = verdict === false ? 403 : verdict.status;
        const message = verdict === false ? 'Forbidden' : (verdict.message ?? 'Forbidden');
        return refuse(socket, status, message);
      }
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const remoteAddress = request.socket.remoteAddress;
      const transport = new NodeWebSocketTransport(ws, {
        ...options,
        stream: socket,
        ...(remoteAddress ? { remoteAddress } : {}),
      });
      this.accept(transport, { request, ...(remoteAddress ? { remoteAddress } : {}) });
    });
  }
}

/**
 * Accept WebSocket connections, on a new HTTP server bound to `host:port` or on a shared
 * `server` (routed by `path`). Resolves once listening.
 */
export async function listenWebSocket(options: WebSocketListenOptions = {}): Promise<WebSocketListener> {
  deflateSetting(options.compression); // a bad setting throws before any port is bound
  if (options.server) {
    const bound = options.server.address();
    const port = typeof bound === 'object' && bound ? bound.port : (options.port ?? 0);
    const host = options.host ?? (typeof bound === 'object' && bound ? bound.address : '127.0.0.1');
    return new WebSocketListener(options.server, false, { host, port }, options);
  }
  const host = options.host ?? '127.0.0.1';
  const upgradeRequired = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket upgrade required');
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, upgradeRequired) : createServer(upgradeRequired);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : 0;
  return new WebSocketListener(server, true, { host, port }, options);
}
