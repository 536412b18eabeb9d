import { deferred, waitFor, type Deferred, type WaitForOptions } from '@rt/transport';
import type { EJSONValue } from '../ejson.js';
import { SubscriptionError, type DDPErrorObject } from '../errors.js';

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  /** Send `unsub` and forget the subscription; resolves when the server confirms (or the connection drops). */
  unsubscribe(subscription: Subscription): Promise<void>;
}

/**
 * A subscription to a publication (ddp_asyncio's `Subscription`). Its documents arrive in
 * the client's collections; `ready` turns true once the initial data is there. It survives
 * reconnects: the client subscribes again with the same id.
 */
export class Subscription {
  /** The subscription id sent in `sub` (random, from `crypto`). */
  readonly id: string;
  /** The publication's name. */
  readonly name: string;
  /** The parameters sent to the publication. */
  readonly params: readonly EJSONValue[];
  readonly #host: SubscriptionHost;
  #waiters: Deferred<void>[] = [];
  #ready = false;
  #stopped = false;
  #error: SubscriptionError | undefined;
  #ending: SubscriptionError | undefined;

  /** Created by `DDPClient.subscribe`. */
  constructor(host: SubscriptionHost, id: string, name: string, params: readonly EJSONValue[]) {
    this.#host = host;
    this.id = id;
    this.name = name;
    this.params = params;
  }

  /** Whether the server has sent the initial data (`ready`). */
  get ready(): boolean {
    return this.#ready;
  }

  /** The error the server ended the subscription with, if any. */
  get error(): SubscriptionError | undefined {
    return this.#error;
  }

  /** Whether the subscription has ended (stopped by either side). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Resolve once ready. Rejects with `SubscriptionError` when the server refuses or ends
   * the subscription before it is ready, `ConnectionError` when the client goes offline for
   * good first, or `AbortError` / `TimeoutError` from `options`.
   */
  wait(options: WaitForOptions = {}): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#ending) return Promise.reject(this.#ending);
    const waiter = deferred<void>();
    this.#waiters.push(waiter);
    return waitFor(waiter.promise, { what: `subscription '${this.name}'`, ...options }, () => {
      this.#waiters = this.#waiters.filter((item) => item !== waiter);
    });
  }

  /** Stop the subscription; resolves once the server confirms (or the connection is gone). */
  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#end(undefined);
    return this.#host.unsubscribe(this);
  }

  /** The server sent `ready` (called by the client). @internal */
  markReady(): void {
    if (this.#ready || this.#stopped) return;
    this.#ready = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  /** The server sent `nosub` (called by the client). @internal */
  markEnded(error: DDPErrorObject | undefined): void {
    if (this.#stopped) return;
    this.#end(error);
  }

  /**
   * The client went offline for good: current `wait()` calls fail with `error`; the
   * subscription stays, and is sent again if the client connects again. @internal
   */
  failWaiters(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #end(error: DDPErrorObject | undefined): void {
    this.#stopped = true;
    if (error) this.#error = new SubscriptionError(this.id, this.name, error);
    if (this.#ready) return;
    this.#ending =
      this.#error ??
      new SubscriptionError(this.id, this.name, { error: 'subscription-stopped', reason: 'the subscription stopped before it was ready' });
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#ending);
  }
}
