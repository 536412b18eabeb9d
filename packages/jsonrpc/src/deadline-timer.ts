/**
 * One timer for many deadlines: it is armed for the earliest one, and when it fires the
 * owner settles what has expired and names the next deadline. This keeps the per-call cost
 * of timeouts to a number comparison instead of a timer each.
 */
export class DeadlineTimer {
  readonly #onFire: (now: number) => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** `onFire(now)` settles expired entries and returns the next deadline (`Infinity`: none). */
  constructor(onFire: (now: number) => number) {
    this.#onFire = onFire;
  }

  /** Make sure the timer fires no later than `deadline` (a `Date.now()` timestamp). */
  schedule(deadline: number): void {
    if (deadline >= this.#armedFor) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = deadline;
    this.#timer = setTimeout(this.#fire, Math.max(0, deadline - Date.now()));
  }

  /** Disarm. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const next = this.#onFire(Date.now());
    if (next !== Infinity) this.schedule(next);
  };
}
