import { AsyncQueue } from '@rt/transport';
import type { CallResult, CancelMode } from './types.js';

/**
 * A pending call: await it for the final result, iterate it for progressive results (with
 * `receiveProgress`), `cancel()` it.
 */
export class Call implements PromiseLike<CallResult>, AsyncIterable<CallResult> {
  readonly #result: Promise<CallResult>;
  #resolve!: (result: CallResult) => void;
  #reject!: (error: Error) => void;
  /** Created on first use: most calls never see progress. */
  #progressQueue: AsyncQueue<CallResult> | undefined;
  #settled = false;
  #error: Error | undefined;

  constructor(
    /** The CALL request id. */
    readonly requestId: number,
    readonly procedure: string,
    private readonly onCancel: (call: Call, mode: CancelMode) => void,
  ) {
    this.#result = new Promise<CallResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only iterates must not see an unhandled rejection.
    this.#result.catch(() => undefined);
  }

  get #progress(): AsyncQueue<CallResult> {
    if (this.#progressQueue === undefined) {
      this.#progressQueue = new AsyncQueue<CallResult>({ highWaterMark: Number.MAX_SAFE_INTEGER });
      if (this.#settled) this.#progressQueue.end(this.#error);
    }
    return this.#progressQueue;
  }

  /** True once the final result or an error arrived. */
  get settled(): boolean {
    return this.#settled;
  }

  /** @internal */
  progress(result: CallResult): void {
    if (!this.#settled) this.#progress.push(result);
  }

  /** @internal */
  resolve(result: CallResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#progressQueue?.end();
    this.#resolve(result);
  }

  /** @internal */
  reject(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#error = error;
    this.#progressQueue?.end(error);
    this.#reject(error);
  }

  /** Ask the dealer to cancel the call (the call rejects with `CanceledError`). */
  cancel(mode: CancelMode = 'killnowait'): void {
    if (!this.#settled) this.onCancel(this, mode);
  }

  /** Like `Promise.prototype.then`, for the final result. */
  then<T = CallResult, E = never>(
    onFulfilled?: ((value: CallResult) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    return this.#result.then(onFulfilled, onRejected);
  }

  /** Like `Promise.prototype.catch`. */
  catch<E = never>(onRejected: (reason: unknown) => E | PromiseLike<E>): Promise<CallResult | E> {
    return this.#result.catch(onRejected);
  }

  /** Like `Promise.prototype.finally`. */
  finally(onFinally: () => void): Promise<CallResult> {
    return this.#result.finally(onFinally);
  }

  /** Progressive results, in order; ends when the final result arrives, throws if the call fails. */
  async *[Symbol.asyncIterator](): AsyncIterator<CallResult> {
    yield* this.#progress;
  }
}
