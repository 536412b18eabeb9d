import { connectWebSocket, type StandardWebSocketConstructor, type Transport, type WebSocketCompression } from '@rt/transport';
import { serializers, type SerializerName } from '../serializer.js';
import { Client, type ClientOptions } from './client.js';

/** Options for `connect()`. */
export interface ConnectOptions extends ClientOptions {
  /** `json` (default), `msgpack` or `cbor`. */
  serializer?: SerializerName;
  /** WebSocket class to use (browsers: the global one; Node: `ws` by default). */
  WebSocket?: StandardWebSocketConstructor;
  /** Extra HTTP headers for the WebSocket handshake (Node only). */
  headers?: Record<string, string>;
  /** Offer permessage-deflate (Node only, default off; browsers always offer it). */
  compression?: WebSocketCompression;
  /** Give up connecting after this long (default 10 s). */
  timeoutMs?: number;
  /** Use this function to open connections instead of `url` (in-memory transports, custom sockets). */
  transport?: () => Promise<Transport>;
}

/**
 * Connect to a WAMP router at `url` (`ws://` or `wss://`) and join `options.realm`.
 * Resolves once the session is established.
 */
export async function connect(url: string, options: ConnectOptions): Promise<Client> {
  const serializer = serializers[options.serializer ?? 'json'];
  if (serializer === undefined) throw new TypeError(`unknown serializer ${String(options.serializer)}`);
  const open = options.transport ?? (() => {
    if (!/^wss?:\/\//.test(url)) throw new TypeError(`unsupported WAMP URL ${url} (use ws:// or wss://)`);
    return connectWebSocket(url, {
      protocols: [serializer.subprotocol],
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.compression === undefined ? {} : { compression: options.compression }),
    });
  });
  const client = new Client(serializer, open, options);
  await client.start();
  return client;
}
