import { TimeoutError, toAbortError } from '@rt/transport';
import { DeadlineTimer } from './deadline-timer.js';
import type { RequestId } from './messages.js';

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  deadline: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Options for one outgoing call. */
export interface CallOptions {
  /** Reject with `TimeoutError` after this many ms (`0` or `Infinity`: never). */
  timeoutMs?: number;
  /** Reject with `AbortError` when this signal aborts. */
  signal?: AbortSignal;
}

/**
 * Outgoing requests waiting for their reply, by id. Every entry settles exactly once: by
 * its reply, its timeout, its abort signal, or `rejectAll` when the connection is lost.
 */
export class PendingCalls {
  readonly #calls = new Map<RequestId, PendingCall>();
  readonly #onGiveUp: (id: RequestId) => void;
  readonly #timer = new DeadlineTimer((now) => this.#expire(now));

  /** `onGiveUp` runs when a call times out or is aborted (to tell the peer). */
  constructor(onGiveUp: (id: RequestId) => void) {
    this.#onGiveUp = onGiveUp;
  }

  /** Number of calls waiting. */
  get size(): number {
    return this.#calls.size;
  }

  /** True when call `id` is waiting for its reply. */
  has(id: RequestId): boolean {
    return this.#calls.has(id);
  }

  /** The ids of the calls waiting, oldest first. */
  ids(): RequestId[] {
    return [...this.#calls.keys()];
  }

  /** Register call `id`; the promise settles with its outcome. */
  add(id: RequestId, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(toAbortError(signal.reason));
    return new Promise<unknown>((resolve, reject) => {
      const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
      const call: PendingCall = { resolve, reject, deadline, timeoutMs, signal, onAbort: undefined };
      if (signal) {
        call.onAbort = () => {
          if (this.reject(id, toAbortError(signal.reason))) this.#onGiveUp(id);
        };
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      this.#calls.set(id, call);
      if (deadline !== Infinity) this.#timer.schedule(deadline);
    });
  }

  /** Settle call `id` with a result; false when no such call is waiting. */
  resolve(id: RequestId, value: unknown): boolean {
    const call = this.#take(id);
    if (!call) return false;
    call.resolve(value);
    return true;
  }

  /** Settle call `id` with an error; false when no such call is waiting. */
  reject(id: RequestId, error: unknown): boolean {
    const call = this.#take(id);
    if (!call) return false;
    call.reject(error);
    return true;
  }

  /** Give up every waiting call: reject it with `error` and tell the peer (as on timeout). */
  cancelAll(error: Error): void {
    for (const id of [...this.#calls.keys()]) if (this.reject(id, error)) this.#onGiveUp(id);
  }

  /** Reject every waiting call with `error`. */
  rejectAll(error: Error): void {
    for (const id of [...this.#calls.keys()]) this.reject(id, error);
    this.#timer.stop();
  }

  #expire(now: number): number {
    let next = Infinity;
    for (const [id, call] of this.#calls) {
      if (call.deadline <= now) {
        const error = new TimeoutError(`request ${String(id)} timed out after ${call.timeoutMs} ms`, call.timeoutMs);
        if (this.reject(id, error)) this.#onGiveUp(id);
      } else if (call.deadline < next) next = call.deadline;
    }
    return next;
  }

  #take(id: RequestId): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
    return call;
  }
}
