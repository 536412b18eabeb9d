import * as Y from 'yjs';
import { encodeUpdate } from './protocol.js';
import type { RoomClients } from './room-clients.js';

interface QueuedUpdate {
  update: Uint8Array;
  origin: unknown;
}

/**
 * Batches a room's document updates and broadcasts them together at the end of the I/O
 * turn they happened in. A lone update skips its sender; several are merged into one
 * message for everyone (a sender applying its own edit again is a no-op), which saves a
 * frame per update per client when many clients type at once.
 */
export class UpdateBroadcast {
  readonly #clients: RoomClients;
  #outgoing: QueuedUpdate[] = [];

  constructor(clients: RoomClients) {
    this.#clients = clients;
  }

  /** True while updates wait to be sent. */
  get pending(): boolean {
    return this.#outgoing.length > 0;
  }

  /** Queue `update` (from `origin`, a connection or anything else) when any client is connected. */
  queue(update: Uint8Array, origin: unknown): void {
    if (this.#clients.connections.size === 0) return;
    if (this.#outgoing.length === 0) scheduleSoon(this.flush);
    this.#outgoing.push({ update, origin });
  }

  /** Send the queued updates now. */
  readonly flush = (): void => {
    const batch = this.#outgoing;
    this.#outgoing = [];
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const [{ update, origin }] = batch as [QueuedUpdate];
      this.#clients.broadcast(encodeUpdate(update), origin);
      return;
    }
    this.#clients.broadcast(encodeUpdate(Y.mergeUpdates(batch.map((entry) => entry.update))));
  };
}

/** Run `task` after the current I/O turn (setImmediate in Node, a zero timeout in browsers). */
function scheduleSoon(task: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(task);
  else setTimeout(task, 0);
}
