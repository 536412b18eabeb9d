import type { CloseInfo, Transport } from '@rt/transport';
import type { CallOptions } from './pending-calls.js';
import type { SessionOptions } from './session-options.js';

/** Options of `sendBatch`. */
export interface BatchOptions extends CallOptions {
  /** Throw a `BatchError` when any request in the batch got an error reply. Default false. */
  raiseErrors?: boolean;
}

/** Options of `close`. */
export interface CloseOptions {
  /** Drop the connection if the graceful close has not finished after this many ms. Default 30000. */
  forceAfterMs?: number;
}

/** Traffic counters of a session. */
export interface SessionStats {
  /** Messages received. */
  recvCount: number;
  /** Bytes (or UTF-16 units, for text) received. */
  recvSize: number;
  /** Messages sent. */
  sendCount: number;
  /** Bytes (or UTF-16 units, for text) sent. */
  sendSize: number;
  /** Errors the peer caused (bad messages, failed requests). */
  errors: number;
  /** When the session was created (`Date.now()` milliseconds). */
  startTime: number;
  /** When a message was last sent (`startTime` until one is). */
  lastSend: number;
  /** When a message was last received (`startTime` until one is). */
  lastRecv: number;
}

/** Which side opened the connection: `client` sessions dialled, `server` sessions were accepted. */
export type SessionKind = 'client' | 'server';

/** What a `Server` needs from the sessions its factory makes. */
export interface AttachableSession extends AsyncDisposable {
  /** Run the session over an accepted transport. */
  attach(transport: Transport, inherited?: SessionOptions): void;
  /** Resolves once the connection has ended. */
  readonly closed: Promise<CloseInfo>;
  /** Close gracefully. */
  close(options?: CloseOptions): Promise<CloseInfo>;
}

/** Lifecycle of a session. */
export type SessionState = 'idle' | 'open' | 'closing' | 'closed';
