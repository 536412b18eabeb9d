import type { CloseInfo, ReconnectPolicy, ReconnectPolicyOptions } from '@rt/transport';
import type * as awarenessProtocol from 'y-protocols/awareness';
import type * as Y from 'yjs';

/** Where a client stands. */
export type ClientStatus = 'connecting' | 'connected' | 'disconnected' | 'denied' | 'closed';

/** A token, or a function asked for a fresh one before every connection attempt. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** Options for `connect`. */
export interface ConnectOptions {
  /** The room to join. */
  id: string;
  /** The document to keep in sync. Default: a new `Y.Doc`. */
  doc?: Y.Doc;
  /** Presence to share. Default: a new `Awareness` on the document (destroyed on close). */
  awareness?: awarenessProtocol.Awareness;
  /** Credential sent on each connection; a function is evaluated again on every reconnect. */
  token?: TokenSource;
  /** Reconnect after a lost connection: `false`, `true` (default backoff) or a policy. Default `true`. */
  reconnect?: boolean | ReconnectPolicyOptions | ReconnectPolicy;
  /**
   * Send local edits and apply remote ones as they happen. Default `true`. When `false`,
   * `push()` sends local edits and `pull()` applies remote ones; each new connection
   * still exchanges full state, as y-protocols syncs.
   */
  autoUpdates?: boolean;
  /** Give up one connection attempt after this long (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** Drop and reconnect a connection silent for this long (ms); 0 disables. Default 30 000. */
  idleTimeoutMs?: number;
  /** Close the client when this signal aborts. */
  signal?: AbortSignal;
}

/** Events of a `RoomClient`. */
export interface RoomClientEvents extends Record<string, unknown[]> {
  /** Every status change. */
  status: [ClientStatus];
  /** The document became synced with the server (`true`) or the connection was lost (`false`). */
  synced: [boolean];
  /** The server refused the connection; the client stops. */
  'permission-denied': [string];
  /** A connection ended, with how it ended. */
  disconnect: [CloseInfo];
  /** A connection attempt failed or the server sent bad input. */
  error: [Error];
}
