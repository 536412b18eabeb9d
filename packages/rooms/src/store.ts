/**
 * Where rooms keep their documents. A store holds, per room, a log of Yjs updates that
 * replays into the document; `compact` swaps the log for one snapshot.
 */
export interface RoomStore {
  /** Every stored update of room `roomId`, oldest first (empty for a new room). */
  load(roomId: string): Promise<Uint8Array[]>;
  /** Append one update; resolves once it is durable. Appends keep their order. */
  append(roomId: string, update: Uint8Array): Promise<void>;
  /** Replace the room's log with `snapshot`, which covers every update appended so far. */
  compact(roomId: string, snapshot: Uint8Array): Promise<void>;
  /** Resolve once every append and compaction issued so far is durable. */
  flush(roomId: string): Promise<void>;
  /** Release what the store holds for `roomId` (after a flush); the room may load again later. */
  release?(roomId: string): Promise<void>;
  /** Flush every room and close. */
  close?(): Promise<void>;
}

/**
 * A store in process memory: rooms survive being unloaded and loaded again, not a restart.
 * The default when `bind` is given no store.
 */
export class MemoryStore implements RoomStore {
  readonly #logs = new Map<string, Uint8Array[]>();

  async load(roomId: string): Promise<Uint8Array[]> {
    return [...(this.#logs.get(roomId) ?? [])];
  }

  async append(roomId: string, update: Uint8Array): Promise<void> {
    let log = this.#logs.get(roomId);
    if (!log) {
      log = [];
      this.#logs.set(roomId, log);
    }
    log.push(update.slice());
  }

  async compact(roomId: string, snapshot: Uint8Array): Promise<void> {
    this.#logs.set(roomId, [snapshot.slice()]);
  }

  async flush(): Promise<void> {}

  /** Number of records kept for `roomId` (for tests and metrics). */
  recordCount(roomId: string): number {
    return this.#logs.get(roomId)?.length ?? 0;
  }

  /** Forget a room entirely. */
  delete(roomId: string): void {
    this.#logs.delete(roomId);
  }
}

/** Create an in-memory store (see `MemoryStore`). */
export function memoryStore(): MemoryStore {
  return new MemoryStore();
}
