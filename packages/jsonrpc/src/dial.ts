import type { Framer, Transport } from '@rt/transport';

/** How to reach a server: a `tcp://`, `tls://`, `ws://` or `wss://` URL, or host and port (TCP). */
export type DialTarget = { readonly url: string } | { readonly host: string; readonly port: number };

/** Connection options shared by `ClientSession` and `connect`. */
export interface DialOptions {
  /** Framer for TCP/TLS (default: newline). Content-Length framing turns on `$/cancelRequest`. */
  framer?: Framer;
  /** Largest incoming message in bytes (framer or WebSocket limit). Default 1000000. */
  maxMessageSize?: number;
  /**
   * TLS: `true`, or Node's `tls.ConnectionOptions` (e.g. `{ ca }` to trust a self-signed
   * certificate). Used for `tls://` and host/port targets, and in Node for `wss://` URLs.
   */
  tls?: boolean | Readonly<Record<string, unknown>>;
  /** WebSocket subprotocols to offer. */
  protocols?: string | string[];
  /** Extra HTTP headers for the WebSocket upgrade (Node only). */
  headers?: Record<string, string>;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Give up connecting after this many ms. */
  connectTimeoutMs?: number;
}

/** Default largest message, as aiorpcx: room for a batch of 4000 typical requests. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1_000_000;

/** True for URLs `dial` sends over WebSocket. */
export function isWebSocketUrl(url: string): boolean {
  return url.startsWith('ws://') || url.startsWith('wss://');
}

/** Opens the transport for a dial target (see `dial-node.ts` and `dial-browser.ts`). */
export type Dialer = (target: DialTarget, options: DialOptions) => Promise<Transport>;
