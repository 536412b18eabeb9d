import { connectWebSocket, type Transport } from '@rt/transport';
import { DEFAULT_MAX_MESSAGE_SIZE, type DialOptions, type DialTarget, isWebSocketUrl } from './dial.js';

/** Open a transport in a browser: WebSocket URLs only (browsers have no raw TCP). */
export async function dial(target: DialTarget, options: DialOptions): Promise<Transport> {
  if (!('url' in target) || !isWebSocketUrl(target.url)) {
    throw new TypeError('in a browser, JSON-RPC sessions connect to ws:// or wss:// URLs only');
  }
  return connectWebSocket(target.url, {
    ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.connectTimeoutMs !== undefined ? { timeoutMs: options.connectTimeoutMs } : {}),
    maxPayload: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
  });
}
