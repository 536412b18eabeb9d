import { AsyncQueue } from '@rt/transport';
import type { Dict } from '../messages.js';
import type { CallResult, CancelMode } from './types.js';

/** Sends one further chunk of a progressive call (`final` for the last one). */
export type CallInputHook = (call: Call, args: unknown[] | undefined, kwargs: Dict | undefined, final: boolean) => void;

/**
 * A pending call: await it for the final result, iterate it for progressive results (with
 * `receiveProgress`), `cancel()` it. A progressive call (`progressive: true`) also sends its
 * input in chunks: `send()` each one, `end()` with the last.
 */
export class Call implements PromiseLike<CallResult>, AsyncIterable<CallResult> {
  /** Made on first `then`/`catch`/`finally`: a call nobody awaits costs no promise. */
  #result: Promise<CallResult> | undefined;
  #resolve: ((result: CallResult) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  /** Created on first use: most calls never see progress. */
  #progressQueue: AsyncQueue<CallResult> | undefined;
  #settled = false;
  #value: CallResult | undefined;
  #error: Error | undefined;
  /** Set by `end()`. */
  #inputEnded = false;
  /** Set by `cancel()`: chunks are no longer sent. */
  #canceled = false;

  constructor(
    /** The CALL request id. */
    readonly requestId: number,
    readonly procedure: string,
    private readonly onCancel: (call: Call, mode: CancelMode) => void,
    /** Set for a progressive call invocation. */
    private readonly onInput?: CallInputHook,
  ) {}

  /** True for a progressive call invocation (`progressive: true` or `inputs`). */
  get progressive(): boolean {
    return this.onInput !== undefined;
  }

  /** True while `send()`/`end()` still reach the callee: a progressive call not ended, canceled or settled. */
  get inputOpen(): boolean {
    return this.onInput !== undefined && !this.#inputEnded && !this.#canceled && !this.#settled;
  }

  /**
   * Send a further chunk of a progressive call (a CALL with `progress: true` and this call's
   * request id); the callee reads it from `invocation.inputs`. Ignored once the call settled (the
   * callee may answer before the input ends) or was canceled. Throws `TypeError` for a call that
   * is not progressive or whose input already ended.
   */
  send(args?: unknown[], kwargs?: Dict): void {
    this.#input(args, kwargs, false);
  }

  /**
   * Send the final chunk of a progressive call (a CALL without `progress`), possibly empty; the
   * callee's `invocation.inputs` ends after it. Same rules as `send()`.
   */
  end(args?: unknown[], kwargs?: Dict): void {
    this.#input(args, kwargs, true);
  }

  #input(args: unknown[] | undefined, kwargs: Dict | undefined, final: boolean): void {
    if (this.onInput === undefined) throw new TypeError(`the call to ${this.procedure} is not progressive (call it with { progressive: true })`);
    if (this.#inputEnded) throw new TypeError(`the input of the call to ${this.procedure} already ended`);
    if (final) this.#inputEnded = true;
    if (this.#settled || this.#canceled) return;
    this.onInput(this, args, kwargs, final);
  }

  get #promise(): Promise<CallResult> {
    if (this.#result === undefined) {
      if (!this.#settled) {
        this.#result = new Promise<CallResult>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      } else if (this.#error === undefined) this.#result = Promise.resolve(this.#value as CallResult);
      else this.#result = Promise.reject(this.#error);
    }
    return this.#result;
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
    this.#value = result;
    this.#progressQueue?.end();
    this.#resolve?.(result);
  }

  /** @internal */
  reject(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#error = error;
    this.#progressQueue?.end(error);
    this.#reject?.(error);
  }

  /** Ask the dealer to cancel the call (the call rejects with `CanceledError`). */
  cancel(mode: CancelMode = 'killnowait'): void {
    if (this.#settled) return;
    this.#canceled = true;
    this.onCancel(this, mode);
  }

  /** Like `Promise.prototype.then`, for the final result. */
  then<T = CallResult, E = never>(
    onFulfilled?: ((value: CallResult) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  /** Like `Promise.prototype.catch`. */
  catch<E = never>(onRejected: (reason: unknown) => E | PromiseLike<E>): Promise<CallResult | E> {
    return this.#promise.catch(onRejected);
  }

  /** Like `Promise.prototype.finally`. */
  finally(onFinally: () => void): Promise<CallResult> {
    return this.#promise.finally(onFinally);
  }

  /** Progressive results, in order; ends when the final result arrives, throws if the call fails. */
  async *[Symbol.asyncIterator](): AsyncIterator<CallResult> {
    yield* this.#progress;
  }
}
