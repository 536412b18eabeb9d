/**
 * Where a client's connection stands (Meteor's status names):
 * `connecting` — opening a connection; `connected` — the DDP session is open;
 * `waiting` — lost, retrying at `retryTime`; `offline` — not connected on purpose (before
 * `connect()`, after `disconnect()`, or when the first connection could not be made);
 * `failed` — gave up (no common DDP version, or out of reconnect attempts).
 */
export type ConnectionState = 'connecting' | 'connected' | 'waiting' | 'offline' | 'failed';

/** A snapshot of the connection status. */
export interface ConnectionStatus {
  /** The state. */
  readonly status: ConnectionState;
  /** `status === 'connected'`. */
  readonly connected: boolean;
  /** Consecutive failed attempts since the last successful connection. */
  readonly retryCount: number;
  /** When the next attempt starts (epoch milliseconds), while `waiting`. */
  readonly retryTime?: number;
  /** Why the connection was lost or failed, when known. */
  readonly reason?: Error;
}
