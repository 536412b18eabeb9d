/** A stream that can hold writes back and flush them together (Node's `Writable`). */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
}

/**
 * Batches a stream's writes per tick: the first write of a tick goes out at once (no added
 * latency for a lone request), and any further writes in the same tick are corked and
 * leave together in one `writev` system call at the end of the tick.
 */
export class TickCork {
  readonly #stream: CorkableStream;
  #writing = false;
  #corked = false;
  readonly #endOfTick = (): void => {
    this.#writing = false;
    if (!this.#corked) return;
    this.#corked = false;
    this.#stream.uncork();
  };

  constructor(stream: CorkableStream) {
    this.#stream = stream;
  }

  /** Call before each write. */
  hold(): void {
    if (!this.#writing) {
      this.#writing = true;
      process.nextTick(this.#endOfTick);
      return;
    }
    if (this.#corked) return;
    this.#corked = true;
    this.#stream.cork();
  }
}
