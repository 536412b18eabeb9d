import type { Awareness } from 'y-protocols/awareness';
import type { AwarenessEntry } from './protocol.js';
import type { RoomConnection } from './room-connection.js';

/** How a room treats the entries of one awareness update from a client. */
export interface AwarenessVerdict {
  /** Entries that change the room's awareness for ids that are free or the sender's own. */
  readonly accepted: AwarenessEntry[];
  /** Entries that would change the state of an id another connection owns. */
  readonly refused: AwarenessEntry[];
  /**
   * Withdrawals to send back to the sender: it announced a state, with an old clock, for an
   * id that has none here. A y-protocols client seeing its own id withdrawn announces its
   * state again with a newer clock (a reconnecting client); any other client drops the id.
   */
  readonly withdrawals: AwarenessEntry[];
}

/**
 * Which connection owns each awareness client id of a room. The first connection to
 * change an id's state owns it until it leaves or the id's state times out (y-protocols
 * drops a state not renewed for 30 s); changes from others are refused meanwhile.
 * Connections refused an id are remembered, so they can claim it once it is released.
 */
export class AwarenessOwnership {
  readonly #awareness: Awareness;
  readonly #owners = new Map<number, RoomConnection>();
  /** Refused connections by id, with the newest clock each announced. */
  readonly #contenders = new Map<number, Map<RoomConnection, number>>();

  constructor(awareness: Awareness) {
    this.#awareness = awareness;
  }

  /** The connection that owns `clientId`, if any. */
  ownerOf(clientId: number): RoomConnection | undefined {
    return this.#owners.get(clientId);
  }

  /** Sort the entries `connection` sent (same rules as y-protocols' `applyAwarenessUpdate`). */
  judge(connection: RoomConnection, entries: readonly AwarenessEntry[]): AwarenessVerdict {
    const accepted: AwarenessEntry[] = [];
    const refused: AwarenessEntry[] = [];
    const withdrawals: AwarenessEntry[] = [];
    const states = this.#awareness.getStates();
    for (const entry of entries) {
      const meta = this.#awareness.meta.get(entry.clientId);
      const clock = meta?.clock ?? 0;
      const present = states.has(entry.clientId);
      const changes = clock < entry.clock || (clock === entry.clock && entry.state === null && present);
      if (!changes) {
        // An echo of what the room already has is no news. A state for an id that is gone
        // here is either a late echo or its client back on a new connection: tell it so.
        if (meta !== undefined && !present && entry.state !== null) {
          withdrawals.push({ clientId: entry.clientId, clock, state: null });
        }
        continue;
      }
      const owner = this.#owners.get(entry.clientId);
      if (owner === undefined || owner === connection) {
        accepted.push(entry);
        continue;
      }
      refused.push(entry);
      let contenders = this.#contenders.get(entry.clientId);
      if (!contenders) {
        contenders = new Map();
        this.#contenders.set(entry.clientId, contenders);
      }
      contenders.set(connection, Math.max(entry.clock, contenders.get(connection) ?? 0));
    }
    return { accepted, refused, withdrawals };
  }

  /** Give `connection` every free id among `entries` (call with the accepted entries). */
  claim(connection: RoomConnection, entries: readonly AwarenessEntry[]): void {
    for (const { clientId } of entries) {
      if (this.#owners.has(clientId)) continue;
      this.#owners.set(clientId, connection);
      connection.awarenessClients.add(clientId);
      this.#contenders.get(clientId)?.delete(connection);
    }
  }

  /** Release every id `connection` owns and forget its claims; returns the released ids. */
  leave(connection: RoomConnection): number[] {
    const released = [...connection.awarenessClients];
    this.release(released);
    for (const [clientId, contenders] of this.#contenders) {
      contenders.delete(connection);
      if (contenders.size === 0) this.#contenders.delete(clientId);
    }
    return released;
  }

  /** Release `clientIds` from whoever owns them. */
  release(clientIds: readonly number[]): void {
    for (const clientId of clientIds) {
      const owner = this.#owners.get(clientId);
      if (!owner) continue;
      this.#owners.delete(clientId);
      owner.awarenessClients.delete(clientId);
    }
  }

  /**
   * The connections refused one of `clientIds` (now released), each with a withdrawal of
   * that id at the newest clock it knows: its client announces itself again and claims the
   * id. Forgets them.
   */
  takeContenders(clientIds: readonly number[]): [RoomConnection, AwarenessEntry][] {
    const nudges: [RoomConnection, AwarenessEntry][] = [];
    for (const clientId of clientIds) {
      const contenders = this.#contenders.get(clientId);
      if (!contenders) continue;
      this.#contenders.delete(clientId);
      const known = this.#awareness.meta.get(clientId)?.clock ?? 0;
      for (const [connection, clock] of contenders) {
        nudges.push([connection, { clientId, clock: Math.max(known, clock), state: null }]);
      }
    }
    return nudges;
  }
}
