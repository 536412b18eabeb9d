import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { AwarenessOwnership } from './awareness-ownership.js';
import {
  decodeAwarenessUpdate,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeAwarenessUpdateMessage,
  type RoomMessage,
} from './protocol.js';
import type { RoomClients } from './room-clients.js';
import type { RoomConnection } from './room-connection.js';

/** The origin y-protocols gives removals of states that were not renewed in time. */
const AWARENESS_TIMEOUT = 'timeout';

/** What an awareness relay needs from its room. */
export interface AwarenessRelayContext {
  readonly clients: RoomClients;
  /** Pass an awareness update on to the other server nodes (`origin` as y-protocols reported it). */
  publish(update: Uint8Array, origin: unknown): void;
  /** Count and report a message refused from `connection`. */
  refuse(connection: RoomConnection, message: RoomMessage): void;
}

/**
 * A room's presence: applies the awareness entries each connection may make (ids it owns
 * or that are free), relays every change to all clients and the bus, and frees the ids of
 * a connection that left or went silent, telling the connections refused them.
 */
export class AwarenessRelay {
  /** Presence of the connected clients (the server itself has no state). */
  readonly awareness: awarenessProtocol.Awareness;
  readonly #owners: AwarenessOwnership;
  readonly #context: AwarenessRelayContext;

  constructor(context: AwarenessRelayContext) {
    this.#context = context;
    // Awareness only needs a client id: a doc of its own keeps it independent of hibernation.
    this.awareness = new awarenessProtocol.Awareness(new Y.Doc());
    this.awareness.setLocalState(null);
    this.#owners = new AwarenessOwnership(this.awareness);
  }

  /** The connection that owns awareness client id `clientId`, if any. */
  ownerOf(clientId: number): RoomConnection | undefined {
    return this.#owners.ownerOf(clientId);
  }

  /** Start relaying awareness changes. */
  listen(): void {
    this.awareness.on('update', this.#onUpdate);
  }

  /** Stop relaying awareness changes. */
  unlisten(): void {
    this.awareness.off('update', this.#onUpdate);
  }

  /** Send a new client the known states, if there are any. */
  greet(connection: RoomConnection): void {
    if (this.awareness.getStates().size > 0) this.#context.clients.send(connection, encodeAwareness(this.awareness));
  }

  /** Answer a client's query with every known state. */
  answerQuery(connection: RoomConnection): void {
    this.#context.clients.send(connection, encodeAwareness(this.awareness));
  }

  /**
   * Apply the entries of an awareness update that are the sender's to make: entries for ids
   * another connection owns are refused (neither applied nor relayed).
   */
  applyFrom(connection: RoomConnection, update: Uint8Array): void {
    const entries = decodeAwarenessUpdate(update);
    const { accepted, refused, withdrawals } = this.#owners.judge(connection, entries);
    if (accepted.length > 0) {
      this.#owners.claim(connection, accepted);
      const applied = accepted.length === entries.length ? update : encodeAwarenessEntries(accepted);
      awarenessProtocol.applyAwarenessUpdate(this.awareness, applied, connection);
    }
    if (withdrawals.length > 0) {
      this.#context.clients.send(connection, encodeAwarenessUpdateMessage(encodeAwarenessEntries(withdrawals)));
    }
    if (refused.length > 0) this.#context.refuse(connection, { type: 'awareness', update: encodeAwarenessEntries(refused) });
  }

  /** Remove the states of a connection that left (after it left the room's clients) and free their ids. */
  leave(connection: RoomConnection): void {
    const owned = this.#owners.leave(connection);
    if (owned.length > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, owned, connection);
      this.#offerReleased(owned);
    }
  }

  /** Release the awareness instance. */
  destroy(): void {
    this.awareness.destroy();
  }

  readonly #onUpdate = (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
    const changed = [...change.added, ...change.updated, ...change.removed];
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
    // Everyone hears it, the sender too: y-websocket clients count it as proof of life.
    this.#context.clients.broadcast(encodeAwarenessUpdateMessage(update));
    this.#context.publish(update, origin);
    // y-protocols drops a state not renewed for 30 s: its owner is gone or stuck, so the id
    // is released (a client back on a new connection can claim it before the old one closes).
    if (origin === AWARENESS_TIMEOUT && change.removed.length > 0) {
      this.#owners.release(change.removed);
      this.#offerReleased(change.removed);
    }
  };

  /** Tell the connections refused any of `clientIds` that the ids are free now. */
  #offerReleased(clientIds: readonly number[]): void {
    const clients = this.#context.clients;
    for (const [connection, withdrawal] of this.#owners.takeContenders(clientIds)) {
      if (clients.connections.has(connection)) {
        clients.send(connection, encodeAwarenessUpdateMessage(encodeAwarenessEntries([withdrawal])));
      }
    }
  }
}
