import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  connect as connectTls,
  createServer as createTlsServer,
  type ConnectionOptions as TlsConnectionOptions,
  type TlsOptions,
} from 'node:tls';
import { waitFor } from './abort.js';
import { ConnectionError } from './errors.js';
import type { FramerFactory } from './framer.js';
import { BaseListener, type ListenerAddress } from './listener.js';
import { NewlineFramer } from './newline-framer.js';
import { StreamTransport, type StreamTransportOptions } from './stream-transport.js';
import type { Transport } from './transport.js';

/** Options for `connectTcp`. */
export interface TcpConnectOptions extends StreamTransportOptions {
  /** Host to connect to. Default `127.0.0.1`. */
  host?: string;
  /** Port to connect to. */
  port: number;
  /** Use TLS: `true` for defaults, or Node's TLS connection options. */
  tls?: boolean | TlsConnectionOptions;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Give up connecting after this many milliseconds. */
  timeoutMs?: number;
}

/** Connect over TCP (or TLS) and resolve a message `Transport` using the given framer. */
export async function connectTcp(options: TcpConnectOptions): Promise<Transport> {
  const host = options.host ?? '127.0.0.1';
  const where = `${options.tls ? 'tls' : 'tcp'}://${host}:${options.port}`;
  let socket: Socket;
  let readyEvent: string;
  if (options.tls) {
    const tlsOptions = options.tls === true ? {} : options.tls;
    socket = connectTls({ servername: isIpAddress(host) ? undefined : host, ...tlsOptions, host, port: options.port });
    readyEvent = 'secureConnect';
  } else {
    socket = createConnection({ host, port: options.port, noDelay: true });
    readyEvent = 'connect';
  }
  const connected = new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new ConnectionError(`could not connect to ${where}: ${error.message}`, { cause: error }));
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  await waitFor(connected, { signal: options.signal, timeoutMs: options.timeoutMs, what: `connecting to ${where}` }, () =>
    socket.destroy(),
  );
  return new StreamTransport(socket, options);
}

/** Options for `listenTcp`. */
export interface TcpListenOptions extends Omit<StreamTransportOptions, 'framer'> {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Creates the framer for each connection. Default: newline framing. */
  framer?: FramerFactory;
  /** Serve TLS with these options (certificate and key). */
  tls?: TlsOptions;
}

/** A TCP or TLS listener yielding message transports. */
export class TcpListener extends BaseListener {
  readonly address: ListenerAddress;
  readonly url: string;
  readonly #server: Server;

  /** Use `listenTcp()`. */
  constructor(server: Server, address: ListenerAddress, secure: boolean) {
    super();
    this.#server = server;
    this.address = address;
    this.url = `${secure ? 'tls' : 'tcp'}://${address.host}:${address.port}`;
  }

  /** Called by `listenTcp` for each accepted socket. */
  handleSocket(socket: Socket, options: TcpListenOptions): void {
    const framer = options.framer?.() ?? new NewlineFramer();
    this.accept(new StreamTransport(socket, { ...options, framer }), {
      ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
    });
  }

  protected stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Listen for TCP (or TLS) connections; resolves once bound. */
export async function listenTcp(options: TcpListenOptions = {}): Promise<TcpListener> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = options.tls ? createTlsServer(options.tls) : createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : (options.port ?? 0);
  const listener = new TcpListener(server, { host, port }, Boolean(options.tls));
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => listener.handleSocket(socket, options));
  // A failed TLS handshake must not take the server down.
  server.on('tlsClientError', () => undefined);
  return listener;
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
