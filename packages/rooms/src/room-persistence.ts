import { StorageError } from './errors.js';
import type { RoomStore } from './store.js';

/**
 * A room's link to its store: tracks writes in flight so `flush()` knows when everything
 * is durable, counts appends to compact now and then, and remembers the first failure.
 */
export class RoomPersistence {
  readonly #roomId: string;
  readonly #store: RoomStore;
  readonly #compactAfter: number;
  readonly #onError: (error: StorageError) => void;
  readonly #writes = new Set<Promise<void>>();
  #appendsSinceCompaction = 0;
  #failure: Error | undefined;

  constructor(roomId: string, store: RoomStore, compactAfter: number, onError: (error: StorageError) => void) {
    this.#roomId = roomId;
    this.#store = store;
    this.#compactAfter = compactAfter;
    this.#onError = onError;
  }

  /** True when updates were appended since the last compaction. */
  get hasAppends(): boolean {
    return this.#appendsSinceCompaction > 0;
  }

  /** Read the stored updates (a long log counts towards the next compaction). */
  async load(): Promise<Uint8Array[]> {
    let updates: Uint8Array[];
    try {
      updates = await this.#store.load(this.#roomId);
    } catch (error) {
      throw new StorageError(`room ${this.#roomId}: loading failed: ${String(error)}`, { cause: error });
    }
    this.#appendsSinceCompaction = updates.length > 1 ? updates.length : 0;
    return updates;
  }

  /** Append one update; compact (with `snapshot()`) once `compactAfter` appends piled up. */
  append(update: Uint8Array, snapshot: () => Uint8Array): void {
    this.#track(this.#store.append(this.#roomId, update));
    this.#appendsSinceCompaction++;
    this.compactIfDue(snapshot);
  }

  /** Compact (with `snapshot()`) once `compactAfter` records piled up. */
  compactIfDue(snapshot: () => Uint8Array): void {
    if (this.#appendsSinceCompaction >= this.#compactAfter) this.compact(snapshot());
  }

  /** Replace the stored log with `snapshot`. */
  compact(snapshot: Uint8Array): void {
    this.#appendsSinceCompaction = 0;
    this.#track(this.#store.compact(this.#roomId, snapshot));
  }

  /** Resolve once every write so far is durable; reject with `StorageError` after any failure. */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes]);
    await this.#store.flush(this.#roomId);
    if (this.#failure) {
      throw new StorageError(`room ${this.#roomId}: ${this.#failure.message}`, { cause: this.#failure });
    }
  }

  /** Let the store drop what it holds for this room. */
  async release(): Promise<void> {
    await this.#store.release?.(this.#roomId);
  }

  #track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#failure ??= failure;
      this.#onError(new StorageError(`room ${this.#roomId}: ${failure.message}`, { cause: failure }));
    });
    this.#writes.add(tracked);
    void tracked.finally(() => this.#writes.delete(tracked));
  }
}
