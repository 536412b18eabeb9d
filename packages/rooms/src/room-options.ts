import type { CloseInfo } from '@rt/transport';
import type * as Y from 'yjs';
import type { RoomBus } from './bus.js';
import type { RoomMessage } from './protocol.js';
import type { RoomConnection } from './room-connection.js';
import type { RoomStore } from './store.js';

/** Decides whether a room handles a message; `false` drops it silently. */
export type MessageFilter = (message: RoomMessage, connection: RoomConnection) => boolean | Promise<boolean>;

/** Options for a `Room`. */
export interface RoomOptions {
  /** The document to serve. Default: a new `Y.Doc` owned (and destroyed) by the room. */
  doc?: Y.Doc;
  /** Where the document is loaded from and every update persisted. Default: nowhere. */
  store?: RoomStore | undefined;
  /** Links this room with its copies on other server nodes. Default: none. */
  bus?: RoomBus | undefined;
  /** Drop messages before they are handled (see `Room.filter`). */
  filter?: MessageFilter;
  /** Send proof of life to a client that heard nothing for this long (ms). Default 10 000; 0 disables. */
  keepaliveMs?: number;
  /**
   * After this long without a document update (ms), keep the document only in encoded
   * form (several times smaller than a live `Y.Doc`) until the next edit or `doc` access.
   * Only for documents the room owns (no `doc` option). Default 10 000; 0 disables.
   */
  hibernateAfterMs?: number;
  /** Largest message accepted, in bytes; a bigger one closes its connection with 1009. Default 16 MiB. */
  maxMessageSize?: number;
  /** Close a client whose unsent data exceeds this many bytes (it reads too slowly). Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Replace the stored log with a snapshot after this many appended updates. Default 500. */
  compactAfter?: number;
}

/** Events of a `Room`. */
export interface RoomEvents extends Record<string, unknown[]> {
  /** A client connected. */
  join: [RoomConnection];
  /** A client left (with how its channel closed). */
  leave: [RoomConnection, CloseInfo];
  /** An update from a read-only client was refused. */
  refused: [RoomConnection, RoomMessage];
  /** A client was disconnected for bad input, or the store or bus failed. */
  error: [Error, RoomConnection | undefined];
  /** The document went idle and is now kept only in encoded form. */
  hibernate: [];
  /** A hibernating document was brought back to life. */
  wake: [];
}
