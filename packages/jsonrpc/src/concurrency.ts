/**
 * A counting semaphore whose size can change while it is in use: cost-based throttling
 * lowers the target, and slots above it are retired as they are released.
 */
export class Concurrency {
  #target: number;
  #active = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(target: number) {
    this.#target = Math.max(0, Math.floor(target));
  }

  /** How many holders may be active at once. */
  get target(): number {
    return this.#target;
  }

  /** How many holders are active. */
  get active(): number {
    return this.#active;
  }

  /** How many callers are waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Change the number of slots; waiters are admitted if it grew. */
  setTarget(target: number): void {
    this.#target = Math.max(0, Math.floor(target));
    this.#admit();
  }

  /** Take a slot without waiting; false when none is free. */
  tryAcquire(): boolean {
    if (this.#active >= this.#target || this.#waiters.length > 0) return false;
    this.#active += 1;
    return true;
  }

  /** Wait for a slot. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Give a slot back. */
  release(): void {
    this.#active -= 1;
    this.#admit();
  }

  /** Admit every waiter (used on shutdown, so nobody waits forever). */
  releaseAll(): void {
    for (const resume of this.#waiters.splice(0)) {
      this.#active += 1;
      resume();
    }
  }

  #admit(): void {
    while (this.#active < this.#target && this.#waiters.length > 0) {
      this.#active += 1;
      (this.#waiters.shift() as () => void)();
    }
  }
}
