import { waitFor, type WaitForOptions } from './abort.js';
import { ClosedError } from './errors.js';

/** Options for an `AsyncQueue`. */
export interface AsyncQueueOptions {
  /** Number of buffered items at which `push` starts returning `false`. Default 1024. */
  highWaterMark?: number;
  /** Called when the queue falls from its high water mark to half of it (resume producing). */
  onDrain?: () => void;
}

/** A pending take: iterator-style (`next`) or plain value (`shift`, `undefined` at the end). */
interface Waiter<T> {
  resolve(result: IteratorResult<T> | T | undefined): void;
  reject(error: unknown): void;
  plain: boolean;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };


/**
 * A bounded FIFO queue between one producer and one or more consumers, with backpressure:
 * `push` reports when the consumer falls behind, `onDrain` tells the producer to resume.
 * Ending the queue lets consumers take what is left, then finish (or throw the end error).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #highWaterMark: number;
  readonly #onDrain: (() => void) | undefined;
  #items: T[] = [];
  #head = 0;
  #waiters: Waiter<T>[] = [];
  #spaceWaiters: (() => void)[] = [];
  #ended = false;
  #endError: unknown = undefined;
  #full = false;

  constructor(options: AsyncQueueOptions = {}) {
    this.#highWaterMark = Math.max(1, options.highWaterMark ?? 1024);
    this.#onDrain = options.onDrain;
  }

  /** Number of buffered items. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The configured high water mark. */
  get highWaterMark(): number {
    return this.#highWaterMark;
  }

  /**
   * Add an item. Returns `false` when the queue is at or above its high water mark, so the
   * producer should pause until `onDrain`. Throws `ClosedError` once the queue has ended.
   */
  push(item: T): boolean {
    if (this.#ended) throw new ClosedError('the queue has ended');
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(waiter.plain ? item : { done: false, value: item });
      return true;
    }
    this.#items.push(item);
    if (this.size >= this.#highWaterMark) this.#full = true;
    return !this.#full;
  }

  /** Take the next item without waiting; `undefined` when the queue is empty. */
  tryShift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined as T;
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#afterShift();
    return item;
  }

  /** Wait for the next item; `done` once the queue has ended and is empty. */
  next(options?: WaitForOptions): Promise<IteratorResult<T>> {
    if (this.size > 0) return Promise.resolve({ done: false, value: this.tryShift() as T });
    if (this.#ended) return this.#endError === undefined ? Promise.resolve(DONE) : Promise.reject(this.#endError);
    return this.#wait<IteratorResult<T>>(false, options);
  }

  /** Wait for the next item; `undefined` once the queue has ended and is empty. */
  shift(options?: WaitForOptions): Promise<T | undefined> {
    // Hot path: no extra promise layer when an item is already buffered.
    if (this.size > 0) return Promise.resolve(this.tryShift());
    if (this.#ended) return this.#endError === undefined ? Promise.resolve(undefined) : Promise.reject(this.#endError);
    return this.#wait<T | undefined>(true, options);
  }

  #wait<R>(plain: boolean, options: WaitForOptions | undefined): Promise<R> {
    let waiter!: Waiter<T>;
    const promise = new Promise<R>((resolve, reject) => {
      waiter = { resolve: resolve as Waiter<T>['resolve'], reject, plain };
      this.#waiters.push(waiter);
    });
    if (!options) return promise;
    return waitFor(promise, options, () => {
      const index = this.#waiters.indexOf(waiter);
      if (index >= 0) this.#waiters.splice(index, 1);
    });
  }

  /** Wait until the queue is below its high water mark (or has ended). */
  waitForSpace(options: WaitForOptions = {}): Promise<void> {
    if (!this.#full || this.#ended) return Promise.resolve();
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
      this.#spaceWaiters.push(resume);
    });
    return waitFor(promise, options, () => {
      const index = this.#spaceWaiters.indexOf(resume);
      if (index >= 0) this.#spaceWaiters.splice(index, 1);
    });
  }

  /**
   * End the queue. Buffered items are still delivered; afterwards consumers see the end
   * (or `error`, when given). Ending twice keeps the first outcome.
   */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endError = error;
    for (const waiter of this.#waiters.splice(0)) {
      if (error !== undefined) waiter.reject(error);
      else waiter.resolve(waiter.plain ? undefined : DONE);
    }
    this.#releaseSpaceWaiters();
  }

  /** Drop every buffered item (used when the consumer gives up). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#afterShift();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => Promise.resolve(DONE),
    };
  }

  #afterShift(): void {
    if (this.#full && this.size <= this.#highWaterMark / 2) {
      this.#full = false;
      this.#releaseSpaceWaiters();
      this.#onDrain?.();
    }
  }

  #releaseSpaceWaiters(): void {
    for (const resume of this.#spaceWaiters.splice(0)) resume();
  }
}
