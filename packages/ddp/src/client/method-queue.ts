import { AbortError, TimeoutError, deferred, type Deferred } from '@rt/transport';
import type { EJSONValue } from '../ejson.js';
import { errorFromObject, InvocationFailedError, type DDPErrorObject } from '../errors.js';

/** Options for one method call. */
export interface ApplyOptions {
  /**
   * Run this call alone: it is sent once every earlier call has finished, and later calls
   * wait until it has finished (Meteor's `wait`). Logins use it.
   */
  wait?: boolean;
  /**
   * Do not send the call again after a reconnect if it was already sent: fail it with
   * `InvocationFailedError`, since the server may or may not have run it.
   */
  noRetry?: boolean;
  /** Reject with `TimeoutError` when no result arrives in time (the server may still run it). */
  timeoutMs?: number;
  /** Reject with `AbortError` when aborted (the server may still run it). */
  signal?: AbortSignal;
  /** Put the stub's return value in the promise's `stubValue` (Meteor's `returnStubValue`). */
  returnStubValue?: boolean;
  /**
   * When the stub throws, reject with its error and do not call the server (its writes are
   * undone). Otherwise the error is reported through the client's `error` event and the
   * server is called anyway (Meteor's `throwStubExceptions`).
   */
  throwStubExceptions?: boolean;
}

/**
 * The result of `DDPClient.apply`: a promise of the method's result, with the call's id and
 * `updated`, which resolves once the method's writes are reflected in the client's
 * collections (the server's `updated` message).
 */
export interface MethodPromise<T> extends Promise<T> {
  /** The method id sent in `method` (random, from `crypto`). */
  readonly id: string;
  /** Resolves once the method's writes are visible in the client's collections. */
  readonly updated: Promise<void>;
  /** What the method's stub returned, when called with `returnStubValue`. */
  readonly stubValue?: unknown;
}

/** The promise `apply` returns for `method`: its result, with `id` and `updated` attached. */
export function methodPromise<T>(method: PendingMethod): MethodPromise<T> {
  // Plain assignments: defining accessors on every call's promise costs far more.
  const promise = method.result.promise as Promise<T> & { id: string; updated: Promise<void> };
  promise.id = method.id;
  promise.updated = method.updated;
  return promise;
}

/** One call on its way. */
export class PendingMethod {
  readonly id: string;
  readonly method: string;
  readonly params: readonly EJSONValue[];
  readonly wait: boolean;
  readonly noRetry: boolean;
  /** Part of the client's own reconnect sequence (the resume login): the re-sync waits for it. */
  readonly blocksResync: boolean;
  readonly result: Deferred<unknown> = deferred();
  /** The `method` message, encoded once when the call is made. */
  encoded = '';
  sent = false;
  gotResult = false;
  gotUpdated = false;
  /** The result arrived but `updated` is owed by the re-sync after a reconnect. */
  updatedByResync = false;
  finished = false;
  cleanup: (() => void) | undefined;
  block: Block | undefined;
  readonly #updated: Deferred<void> = deferred();

  constructor(id: string, method: string, params: readonly EJSONValue[], options: ApplyOptions & { blocksResync?: boolean }) {
    this.id = id;
    this.method = method;
    this.params = params;
    this.wait = options.wait ?? false;
    this.noRetry = options.noRetry ?? false;
    this.blocksResync = options.blocksResync ?? false;
    // Callers often ignore `updated`; its failure must not become an unhandled rejection.
    this.#updated.promise.catch(() => undefined);
  }

  /** Resolves on `updated`. */
  get updated(): Promise<void> {
    return this.#updated.promise;
  }

  /** The call's writes are visible: resolve `updated`. */
  markUpdated(): void {
    this.#updated.resolve();
  }

  /** The call failed before its writes were reported. */
  failUpdated(error: unknown): void {
    this.#updated.reject(error);
  }
}

/** Calls that go out together. */
export interface Block {
  wait: boolean;
  methods: Set<PendingMethod>;
}

/** What a `MethodQueue` needs from its client. */
export interface MethodQueueHooks {
  /** Write one `method` message; `false` when there is no connection. */
  send(method: PendingMethod): boolean;
  /** The call has its result and the server's `updated`: settle its `updated` promise. */
  done(method: PendingMethod): void;
  /** The call failed (timeout, abort, lost `noRetry` call, going offline). */
  failed(method: PendingMethod): void;
}

/**
 * Outstanding method calls in Meteor's blocks: consecutive ordinary calls form one block
 * and go out together; a `wait` call is a block of its own. Only the first block is on the
 * wire; the next goes when every call in it has its result and `updated`.
 */
export class MethodQueue {
  readonly #blocks: Block[] = [];
  readonly #byId = new Map<string, PendingMethod>();
  readonly #hooks: MethodQueueHooks;

  constructor(hooks: MethodQueueHooks) {
    this.#hooks = hooks;
  }

  /** Calls not yet finished. */
  get size(): number {
    return this.#byId.size;
  }

  /** Whether a call the re-sync must wait for (the resume login) has no result yet. */
  get blockingResync(): boolean {
    for (const method of this.#byId.values()) if (method.blocksResync && !method.gotResult) return true;
    return false;
  }

  /**
   * Queue a call (at the front for the reconnect login) and send it if its block is current.
   * `timeoutMs` and `signal` fail the call with `TimeoutError` / `AbortError`.
   */
  add(method: PendingMethod, options: Pick<ApplyOptions, 'signal' | 'timeoutMs'> = {}, atFront = false): void {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) {
      this.fail(method, new AbortError(`call to '${method.method}' aborted`));
      return;
    }
    if (timeoutMs !== undefined || signal) {
      const onAbort = (): void => this.fail(method, new AbortError(`call to '${method.method}' aborted`));
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.fail(method, new TimeoutError(`call to '${method.method}' timed out after ${timeoutMs} ms`, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      method.cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
    }
    this.#byId.set(method.id, method);
    const last = this.#blocks.at(-1);
    if (atFront) {
      method.block = { wait: true, methods: new Set([method]) };
      this.#blocks.unshift(method.block);
    } else if (!method.wait && last && !last.wait) {
      method.block = last;
      last.methods.add(method);
    } else {
      method.block = { wait: method.wait, methods: new Set([method]) };
      this.#blocks.push(method.block);
    }
    if (method.block === this.#blocks[0]) this.#sendOne(method);
  }

  /** Send the unsent calls of the current block. */
  flush(): void {
    const block = this.#blocks[0];
    if (!block) return;
    for (const method of block.methods) if (!this.#sendOne(method)) return;
  }

  #sendOne(method: PendingMethod): boolean {
    if (method.sent || method.finished) return true;
    if (!this.#hooks.send(method)) return false;
    method.sent = true;
    return true;
  }

  /** Handle a `result` message; returns `false` for an unknown id. */
  onResult(id: string, error: DDPErrorObject | undefined, result: EJSONValue | undefined): boolean {
    const method = this.#byId.get(id);
    if (!method || method.gotResult) return method !== undefined;
    method.gotResult = true;
    if (error) method.result.reject(errorFromObject(error));
    else method.result.resolve(result);
    this.#maybeFinish(method);
    return true;
  }

  /** Handle one id of an `updated` message; returns `false` for an unknown id. */
  onUpdated(id: string): boolean {
    const method = this.#byId.get(id);
    if (!method) return false;
    method.gotUpdated = true;
    this.#maybeFinish(method);
    return true;
  }

  /**
   * The connection dropped and a new one will follow. Calls on the wire without a result
   * are sent again, except `noRetry` ones, which fail. Calls with a result but no
   * `updated` are settled by the re-sync (`resyncDone`).
   */
  connectionLost(): void {
    for (const method of [...this.#byId.values()]) {
      if (!method.sent) continue;
      if (!method.gotResult) {
        if (method.noRetry || method.blocksResync) this.fail(method, new InvocationFailedError(method.method));
        else method.sent = false;
      } else if (!method.gotUpdated) {
        method.updatedByResync = true;
      }
    }
  }

  /** The re-sync after a reconnect finished: the data of earlier calls is in place. */
  resyncDone(): void {
    for (const method of [...this.#byId.values()]) {
      if (method.updatedByResync && !method.gotUpdated) this.onUpdated(method.id);
    }
  }

  /** Fail one call (timeout, abort, lost connection). */
  fail(method: PendingMethod, error: Error): void {
    if (method.finished) return;
    if (!method.gotResult) method.result.reject(error);
    method.failUpdated(error);
    this.#finish(method);
    this.#hooks.failed(method);
  }

  /** Fail every call (the client is going offline for good). */
  failAll(error: Error): void {
    for (const method of [...this.#byId.values()]) this.fail(method, error);
  }

  #maybeFinish(method: PendingMethod): void {
    if (!method.gotResult || !method.gotUpdated) return;
    this.#finish(method);
    this.#hooks.done(method);
  }

  #finish(method: PendingMethod): void {
    method.finished = true;
    method.cleanup?.();
    this.#byId.delete(method.id);
    const block = method.block;
    method.block = undefined;
    if (!block) return;
    block.methods.delete(method);
    if (block.methods.size > 0) return;
    const index = this.#blocks.indexOf(block);
    if (index >= 0) this.#blocks.splice(index, 1);
    if (index === 0) this.flush();
  }
}
