import { connectRawSocket } from '../rawsocket/socket.js';
import { serializers } from '../serializer.js';
import type { Client } from './client.js';
import { connect as connectBrowserSafe, type ConnectOptions } from './connect.js';

/** Options for `connect()` in Node: also RawSocket. */
export interface NodeConnectOptions extends ConnectOptions {
  /** Largest message accepted over RawSocket (default 16 MiB). */
  maxMessageLength?: number;
  /** RawSocket keepalive: ping after this much silence, drop the connection when no answer comes. */
  pingIntervalMs?: number;
}

/**
 * Connect to a WAMP router and join `options.realm`. In Node `url` may also be a RawSocket URL:
 * `tcp://host:port` or `tcps://host:port` (TLS); `rs://` and `rss://` are accepted as aliases.
 */
export function connect(url: string, options: NodeConnectOptions): Promise<Client> {
  const match = /^(tcps?|rss?):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(url);
  if (match === null || options.transport !== undefined) return connectBrowserSafe(url, options);
  const serializer = serializers[options.serializer ?? 'json'];
  const host = (match[2] as string).replace(/^\[|\]$/g, '');
  return connectBrowserSafe(url, {
    ...options,
    transport: () => connectRawSocket({
      host, port: Number(match[3]), serializerId: serializer.rawSocketId, tls: match[1] === 'tcps' || match[1] === 'rss',
      ...(options.maxMessageLength === undefined ? {} : { maxLength: options.maxMessageLength }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
    }),
  });
}
