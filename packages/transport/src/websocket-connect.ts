import { waitFor } from './abort.js';
import type { BaseTransportOptions } from './base-transport.js';
import { ConnectionError } from './errors.js';
import type { Transport } from './transport.js';
import {
  StandardWebSocketTransport,
  type StandardWebSocket,
  type StandardWebSocketConstructor,
} from './websocket-transport.js';

/** TLS settings for a Node `wss://` client; a structural subset of Node's `tls.ConnectionOptions`. */
export interface WebSocketTlsOptions {
  /** Certificate authorities to trust, in PEM. */
  ca?: string | Uint8Array | (string | Uint8Array)[] | undefined;
  /** Client certificate chain, in PEM. */
  cert?: string | Uint8Array | (string | Uint8Array)[] | undefined;
  /** Client private key, in PEM (arrays may also hold Node `KeyObject`s or `{ pem, passphrase }`). */
  key?: string | Uint8Array | (string | Uint8Array | object)[] | undefined;
  /** Verify the server certificate (default `true`). */
  rejectUnauthorized?: boolean | undefined;
  /** Server name for SNI and certificate checks. */
  servername?: string | undefined;
}

/**
 * permessage-deflate compression (RFC 7692) for Node WebSockets. Off by default: it costs CPU
 * and memory per connection, and pays off for large, repetitive messages on slow links.
 * `true` compresses messages of 1 KiB or more; `{ threshold }` sets that size in bytes.
 */
export type WebSocketCompression = boolean | { threshold?: number };

/** Options for `connectWebSocket`. */
export interface WebSocketConnectOptions extends BaseTransportOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | string[];
  /** Extra HTTP headers for the upgrade request (Node only; browsers cannot set them). */
  headers?: Record<string, string>;
  /** WebSocket class to use; defaults to the global `WebSocket` (in Node: the `ws` package). */
  WebSocket?: StandardWebSocketConstructor;
  /** TLS settings for `wss://` (Node only), e.g. `{ ca }` to trust a private certificate authority. */
  tls?: WebSocketTlsOptions;
  /** Largest incoming message in bytes (Node only). */
  maxPayload?: number;
  /** Offer permessage-deflate (Node only, default off; browsers always offer it). */
  compression?: WebSocketCompression;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Give up connecting after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Connect to a WebSocket server and resolve an open `Transport`. Uses the global
 * `WebSocket` unless a class is given. Rejects with `ConnectionError` when the server
 * refuses, `TimeoutError` after `timeoutMs`, `AbortError` when `signal` aborts.
 */
export async function connectWebSocket(url: string, options: WebSocketConnectOptions = {}): Promise<Transport> {
  const WebSocketClass =
    options.WebSocket ?? (globalThis as { WebSocket?: StandardWebSocketConstructor }).WebSocket;
  if (!WebSocketClass) {
    throw new ConnectionError('no WebSocket implementation: pass one with the `WebSocket` option');
  }
  // Node's `ws` accepts client options as a third argument; browsers ignore it.
  const Constructor = WebSocketClass as unknown as new (...args: unknown[]) => StandardWebSocket;
  const socket = new Constructor(url, options.protocols ?? [], options.headers ? { headers: options.headers } : undefined);
  // Wrap before the socket opens: a first message can arrive with the handshake response.
  const transport = new StandardWebSocketTransport(socket, options);
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    void transport.closed.then((info) =>
      reject(
        new ConnectionError(`could not connect to ${url}${info.reason ? `: ${info.reason}` : ''}`, {
          closeCode: info.code,
          closeReason: info.reason,
        }),
      ),
    );
    // Errors are always followed by a close event, which carries the outcome.
    socket.addEventListener('error', () => undefined);
  });
  await waitFor(opened, { signal: options.signal, timeoutMs: options.timeoutMs, what: `connecting to ${url}` }, () =>
    socket.close(),
  );
  return transport;
}
