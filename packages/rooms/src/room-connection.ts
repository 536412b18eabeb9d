import type { Transport } from '@rt/transport';

/** Options for one connection served by a room. */
export interface ServeOptions {
  /** Refuse document updates from this connection; it still receives state and awareness. */
  readOnly?: boolean;
  /** Whatever `authenticate` returned for this connection (user, roles, ...). */
  context?: unknown;
  /** The peer's address, for logs. */
  remoteAddress?: string | undefined;
}

let nextConnectionId = 1;

/** One client connected to a room, as the room sees it. */
export class RoomConnection {
  /** A process-unique number for logs. */
  readonly id: number;
  /** The message channel to the client. */
  readonly channel: Transport;
  /** True when document updates from this client are refused. */
  readonly readOnly: boolean;
  /** What `authenticate` returned for this client. */
  readonly context: unknown;
  /** The peer's address, when known. */
  readonly remoteAddress: string | undefined;
  /**
   * Awareness client ids this connection owns: it announced them first. Only it may change
   * their states; they are removed and released when it leaves.
   */
  readonly awarenessClients = new Set<number>();
  /** How many messages from this client the room refused (updates while read-only, awareness for ids it does not own). */
  refusedCount = 0;
  /** When the room last wrote to this client (ms since the epoch). */
  lastSentAt = Date.now();

  constructor(channel: Transport, options: ServeOptions = {}) {
    this.id = nextConnectionId++;
    this.channel = channel;
    this.readOnly = options.readOnly ?? false;
    this.context = options.context;
    this.remoteAddress = options.remoteAddress;
  }
}
