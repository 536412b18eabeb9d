import { WebSocket as WsSocket } from 'ws';
import { waitFor } from './abort.js';
import { ConnectionError } from './errors.js';
import { NodeWebSocketTransport } from './node-websocket-transport.js';
import { deflateSetting } from './websocket-compression.js';
import type { Transport } from './transport.js';
import { connectWebSocket as connectStandardWebSocket, type WebSocketConnectOptions } from './websocket-connect.js';

/**
 * Connect to a WebSocket server (Node): uses the `ws` package unless another WebSocket
 * class is given, and resolves an open `Transport`.
 */
export async function connectWebSocket(url: string, options: WebSocketConnectOptions = {}): Promise<Transport> {
  if (options.WebSocket) return connectStandardWebSocket(url, options);
  const socket = new WsSocket(url, options.protocols ?? [], {
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
    ...options.tls,
    perMessageDeflate: deflateSetting(options.compression),
  });
  // Wrap before the socket opens: a first message can arrive with the handshake response.
  const transport = new NodeWebSocketTransport(socket, options);
  const opened = new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('open', onOpen);
      reject(new ConnectionError(`could not connect to ${url}: ${error.message}`, { cause: error }));
    };
    const onOpen = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('open', onOpen);
    socket.once('error', onError);
  });
  await waitFor(opened, { signal: options.signal, timeoutMs: options.timeoutMs, what: `connecting to ${url}` }, () =>
    socket.terminate(),
  );
  return transport;
}
