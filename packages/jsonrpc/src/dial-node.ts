import { connectTcp, connectWebSocket, NewlineFramer, type Transport } from '@rt/transport';
import type { ConnectionOptions } from 'node:tls';
import { DEFAULT_MAX_MESSAGE_SIZE, type DialOptions, type DialTarget, isWebSocketUrl } from './dial.js';

/** Open a transport in Node: `tcp://`, `tls://`, `ws://`, `wss://` URLs, or host and port (TCP). */
export async function dial(target: DialTarget, options: DialOptions): Promise<Transport> {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const common = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.connectTimeoutMs !== undefined ? { timeoutMs: options.connectTimeoutMs } : {}),
  };
  let host: string;
  let port: number;
  let tls = options.tls;
  if ('url' in target) {
    if (isWebSocketUrl(target.url)) {
      const secure = target.url.startsWith('wss://') && typeof tls === 'object';
      return connectWebSocket(target.url, {
        ...common,
        ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
        ...(secure ? { tls: tls as ConnectionOptions } : {}),
        maxPayload: maxMessageSize,
      });
    }
    const url = new URL(target.url);
    if (url.protocol !== 'tcp:' && url.protocol !== 'tls:') {
      throw new TypeError(`unsupported URL scheme ${url.protocol} (use tcp://, tls://, ws:// or wss://)`);
    }
    host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = Number(url.port);
    if (url.protocol === 'tls:') tls ??= true;
  } else {
    ({ host, port } = target);
  }
  return connectTcp({
    ...common,
    host,
    port,
    framer: options.framer ?? new NewlineFramer({ maxSize: maxMessageSize }),
    text: false,
    ...(tls ? { tls: tls as boolean | ConnectionOptions } : {}),
  });
}
