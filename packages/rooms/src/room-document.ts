import * as Y from 'yjs';

/**
 * A room's document, live or hibernating. While hibernating only the encoded state is
 * kept; sync requests are answered from it, and the first edit (or `wake()`) rebuilds
 * the live `Y.Doc`.
 */
export class RoomDocument {
  /** True when the room created the document (only such documents may hibernate). */
  readonly owned: boolean;
  #live: Y.Doc | undefined;
  #dormant: Uint8Array | undefined;
  /** The hibernating document's state vector and delete set, encoded (`Y.encodeSnapshot`). */
  #dormantSnapshot: Uint8Array | undefined;
  readonly #onWake: (doc: Y.Doc) => void;

  /** `onWake` runs with each document rebuilt from its encoded form. */
  constructor(doc: Y.Doc | undefined, onWake: (doc: Y.Doc) => void) {
    this.owned = doc === undefined;
    this.#live = doc ?? new Y.Doc();
    this.#onWake = onWake;
  }

  /** The live document, if it is not hibernating. */
  get live(): Y.Doc | undefined {
    return this.#live;
  }

  /** True while only the encoded state is kept. */
  get hibernating(): boolean {
    return this.#dormant !== undefined;
  }

  /** The live document, rebuilt first if it hibernates. */
  wake(): Y.Doc {
    if (this.#live) return this.#live;
    const doc = new Y.Doc();
    Y.applyUpdate(doc, this.#dormant ?? EMPTY_UPDATE);
    this.#dormant = undefined;
    this.#dormantSnapshot = undefined;
    this.#live = doc;
    this.#onWake(doc);
    return doc;
  }

  /** Keep only the encoded state; `false` when the document is not the room's own. */
  hibernate(): boolean {
    const doc = this.#live;
    if (!doc || !this.owned) return false;
    this.#dormant = Y.encodeStateAsUpdate(doc);
    this.#dormantSnapshot = Y.encodeSnapshot(Y.snapshot(doc));
    this.#live = undefined;
    doc.destroy();
    return true;
  }

  /**
   * True when the document is hibernating and `update` holds nothing it lacks: no struct
   * past its state vector and no deletion it has not made (a reconnecting client's
   * handshake carries its whole delete set). False when unsure, also for a malformed update.
   */
  hibernatingWith(update: Uint8Array): boolean {
    if (this.#dormantSnapshot === undefined || snapshotContainsUpdate === undefined) return false;
    try {
      return snapshotContainsUpdate(Y.decodeSnapshot(this.#dormantSnapshot), update);
    } catch {
      return false;
    }
  }

  /** The document's state vector. */
  stateVector(): Uint8Array {
    return this.#dormant ? Y.encodeStateVectorFromUpdate(this.#dormant) : Y.encodeStateVector(this.wake());
  }

  /** Everything a peer at `stateVector` lacks, as one update. Throws on a malformed vector. */
  missing(stateVector: Uint8Array): Uint8Array {
    if (!this.#dormant) return Y.encodeStateAsUpdate(this.wake(), stateVector);
    // A peer with nothing gets the encoded document as it is.
    return isEmptyStateVector(stateVector) ? this.#dormant : Y.diffUpdate(this.#dormant, stateVector);
  }

  /** The whole document as one update. */
  snapshot(): Uint8Array {
    return this.#dormant ?? Y.encodeStateAsUpdate(this.wake());
  }

  /** Release the document (a document passed in by the caller is left alone). */
  destroy(): void {
    if (this.owned) this.#live?.destroy();
  }
}

const EMPTY_UPDATE = Uint8Array.of(0, 0);

/** `Y.snapshotContainsUpdate`; early Yjs 13.6 releases lack it (`undefined` there: the room wakes as before). */
const snapshotContainsUpdate = (Y as Partial<Pick<typeof Y, 'snapshotContainsUpdate'>>).snapshotContainsUpdate;

function isEmptyStateVector(stateVector: Uint8Array): boolean {
  return stateVector.length === 1 && stateVector[0] === 0;
}
