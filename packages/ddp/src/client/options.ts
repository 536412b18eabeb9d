import type { StandardWebSocketConstructor, Transport, WebSocketCompression } from '@rt/transport';
import type { EJSON } from '../ejson.js';
import type { DDPVersion } from '../versions.js';
import { MeteorRetryPolicy, type MeteorRetryOptions, type RetryPolicy } from './retry-policy.js';

/** Heartbeat settings: ping after `intervalMs` of silence, give up `timeoutMs` later. */
export interface HeartbeatOptions {
  /** Default 17 500 (Meteor's client). */
  intervalMs?: number;
  /** Default 15 000. */
  timeoutMs?: number;
}

/** Options for `DDPClient`. */
export interface DDPClientOptions {
  /** DDP versions to offer, most preferred first. Default `['1', 'pre2', 'pre1']`. */
  versions?: readonly DDPVersion[];
  /** Heartbeats (DDP `pre2` and later), or `false` to turn them off. */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Reconnect after a lost connection: `true` (default) uses Meteor's backoff; pass Meteor
   * backoff options, any `RetryPolicy` (such as `ReconnectPolicy` from `@rt/transport`), or
   * `false` to stay offline.
   */
  reconnect?: boolean | MeteorRetryOptions | RetryPolicy;
  /** Time allowed to open the socket and finish the DDP handshake. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** WebSocket class to use (browsers and Node 22+ have one; in Node 20 `ws` is used). */
  WebSocket?: StandardWebSocketConstructor;
  /**
   * Offer permessage-deflate when the client uses `ws` in Node (browsers always offer it):
   * `true`, or `{ threshold }` for the smallest message it compresses. Default off.
   */
  compression?: WebSocketCompression;
  /** EJSON instance with the custom types this client understands. Default: the shared `ejson`. */
  ejson?: EJSON;
  /**
   * Open the transport yourself (in-memory pairs, proxies, custom sockets). Replaces the
   * WebSocket connection to `url`.
   */
  transport?: (signal: AbortSignal) => Promise<Transport>;
}

/** Meteor's client heartbeat. */
export const DEFAULT_HEARTBEAT = { intervalMs: 17_500, timeoutMs: 15_000 };

/** `http(s)://host/app` becomes `ws(s)://host/app/websocket`, as Meteor's `DDP.connect` does. */
export function normaliseUrl(url: string): string {
  if (!/^https?:\/\//i.test(url)) return url;
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  if (!parsed.pathname.endsWith('/websocket')) parsed.pathname = `${parsed.pathname.replace(/\/$/, '')}/websocket`;
  return parsed.toString();
}

/** The retry policy a `reconnect` option asks for (`undefined`: do not reconnect). */
export function resolveRetryPolicy(option: DDPClientOptions['reconnect']): RetryPolicy | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return new MeteorRetryPolicy();
  if ('delayFor' in option && typeof option.delayFor === 'function') return option;
  return new MeteorRetryPolicy(option as MeteorRetryOptions);
}
