import { waitFor } from './abort.js';
import type { BaseTransportOptions } from './base-transport.js';
import { ConnectionError } from './errors.js';
import type { Transport } from './transport.js';
import {
  StandardWebSocketTransport,
  type StandardWebSocket,
  type StandardWebSocketConstructor,
} from './websocket-transport.js';

/** Options for `connectWebSocket`. */
export interface WebSocketConnectOptions extends BaseTransportOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | string[];
  /** Extra HTTP headers for the upgrade request (Node only; browsers cannot set them). */
  headers?: Record<string, string>;
  /** WebSocket class to use; defaults to the global `WebSocket` (in Node: the `ws` package). */
  WebSocket?: StandardWebSocketConstructor;
  /** Largest incoming message in bytes (Node only). */
  maxPayload?: number;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Give up connecting after this many milliseconds. */
  timeoutMs?: number;
}

/** Open a WebSocket with a standard WebSocket class and wait until it is open. */
export async function openStandardWebSocket(
  WebSocketClass: StandardWebSocketConstructor,
  url: string,
  options: WebSocketConnectOptions,
  extraArguments: unknown[] = [],
): Promise<StandardWebSocket> {
  const Constructor = WebSocketClass as unknown as new (...args: unknown[]) => StandardWebSocket;
  const socket = new Constructor(url, options.protocols ?? [], ...extraArguments);
  const opened = new Promise<StandardWebSocket>((resolve, reject) => {
    const onOpen = (): void => {
      socket.removeEventListener('close', onClose);
      resolve(socket);
    };
    const onClose = (event: { code: number; reason: string }): void => {
      reject(
        new ConnectionError(`could not connect to ${url}${event.reason ? `: ${event.reason}` : ''}`, {
          closeCode: event.code,
          closeReason: event.reason,
        }),
      );
    };
    socket.addEventListener('open', onOpen);
    socket.addEventListener('close', onClose);
    // Errors are always followed by a close event, which carries the outcome.
    socket.addEventListener('error', () => undefined);
  });
  return waitFor(opened, { signal: options.signal, timeoutMs: options.timeoutMs, what: `connecting to ${url}` }, () =>
    socket.close(),
  );
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
  const socket = await openStandardWebSocket(WebSocketClass, url, options);
  return new StandardWebSocketTransport(socket, options);
}
