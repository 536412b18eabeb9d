import { AbortError, TimeoutError } from './errors.js';

/** Options accepted by `waitFor`. */
export interface WaitForOptions {
  /** Reject with `AbortError` when this signal aborts. */
  signal?: AbortSignal | undefined;
  /** Reject with `TimeoutError` after this many milliseconds. */
  timeoutMs?: number | undefined;
  /** Text used in the timeout error message. */
  what?: string;
}

/** Throw the signal's reason as an `AbortError` when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw toAbortError(signal.reason);
}

/** Wrap an abort reason in an `AbortError` unless it already is one. */
export function toAbortError(reason: unknown): Error {
  if (reason instanceof AbortError || reason instanceof TimeoutError) return reason;
  return new AbortError(reason instanceof Error ? reason.message : 'the operation was aborted', { cause: reason });
}

/**
 * Race a promise against an abort signal and a timeout. The promise itself is not
 * cancelled; `cleanup` runs when the wait is given up, so the caller can withdraw it.
 */
export function waitFor<T>(promise: Promise<T>, options: WaitForOptions = {}, cleanup?: () => void): Promise<T> {
  const { signal, timeoutMs } = options;
  if (!signal && timeoutMs === undefined) return promise;
  if (signal?.aborted) {
    cleanup?.();
    return Promise.reject(toAbortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (error: Error): void => {
      finish();
      cleanup?.();
      reject(error);
    };
    const onAbort = (): void => giveUp(toAbortError(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () => giveUp(new TimeoutError(`${options.what ?? 'operation'} timed out after ${timeoutMs} ms`, timeoutMs)),
        timeoutMs,
      );
    }
    promise.then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}

/** Resolve after `ms` milliseconds, or reject early with `AbortError` when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return waitFor(
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
    { signal },
  );
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Fulfil the promise. */
  resolve(value: T): void;
  /** Reject the promise. */
  reject(error: unknown): void;
}

/** Create a promise whose settle functions are exposed (`Promise.withResolvers` for Node 20). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
