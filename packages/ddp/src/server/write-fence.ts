/** A write a method started; call `committed()` once its effect is visible to publications. */
export interface PendingWrite {
  /** Mark the write as visible. Calling it again does nothing. */
  committed(): void;
}

/**
 * Tracks the writes of one method call. Once the method has returned (`arm`) and every
 * write begun through `beginWrite` is committed, the session sends `updated`.
 */
export class WriteFence {
  #outstanding = 0;
  #armed = false;
  #fired = false;
  #onCommitted: (() => void) | undefined;

  /** Begin a write; `updated` waits for its `committed()`. */
  beginWrite(): PendingWrite {
    if (this.#fired) throw new Error('cannot begin a write after the method has reported its writes as visible');
    this.#outstanding += 1;
    let done = false;
    return {
      committed: () => {
        if (done) return;
        done = true;
        this.#outstanding -= 1;
        this.#check();
      },
    };
  }

  /** The method is done: call `onCommitted` as soon as every write has been committed. */
  arm(onCommitted: () => void): void {
    this.#armed = true;
    this.#onCommitted = onCommitted;
    this.#check();
  }

  #check(): void {
    if (!this.#armed || this.#fired || this.#outstanding > 0) return;
    this.#fired = true;
    this.#onCommitted?.();
  }
}
