import type { EJSONValue } from '../ejson.js';
import type { DocumentFields } from '../document-diff.js';
import type { MergeBox } from './merge-box.js';
import type { DDPConnection } from './types.js';

/** What a publication needs from its session. */
export interface PublicationHost {
  readonly connection: DDPConnection;
  readonly userId: string | null;
  /** The session's current merge box. */
  box(): MergeBox;
  /** Tell the client this subscription is ready. */
  sendReady(subscriptionId: string): void;
  /** End the subscription: its documents are withdrawn and the client gets `nosub`. */
  endSubscription(context: PublicationContext, error: unknown): void;
  /** Report an error thrown by user code that the client does not see. */
  reportError(error: unknown, publication: string | null): void;
}

/** How a subscription ends. */
export type DeactivateMode =
  /** Stopped by either side: withdraw the documents. */
  | 'withdraw'
  /** The session is being rebuilt (login change) or closed: leave the merge box alone. */
  | 'discard';

/**
 * `this` inside a publication (Meteor's `Subscription`): publish documents into the
 * client's view, signal readiness, and clean up when the subscription stops.
 */
export class PublicationContext {
  /** The client's id for this subscription; `undefined` for universal publications. */
  readonly subscriptionId: string | undefined;
  /** The publication's name (`null` for universal publications). */
  readonly name: string | null;
  /** The parameters the client sent. */
  readonly params: readonly EJSONValue[];
  readonly #host: PublicationHost;
  readonly #documents = new Map<string, Set<string>>();
  readonly #stopCallbacks: (() => void | Promise<void>)[] = [];
  readonly #abort = new AbortController();
  #ready = false;
  #unblock: (() => void) | undefined;

  /** Created by the session for each `sub` message. */
  constructor(host: PublicationHost, subscriptionId: string | undefined, name: string | null, params: readonly EJSONValue[]) {
    this.#host = host;
    this.subscriptionId = subscriptionId;
    this.name = name;
    this.params = params;
  }

  /** The logged-in user of this connection, or `null`. Publications re-run when it changes. */
  get userId(): string | null {
    return this.#host.userId;
  }

  /** The client connection. */
  get connection(): DDPConnection {
    return this.#host.connection;
  }

  /** Aborted when the subscription stops, for cancelling async work. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether the subscription has stopped. */
  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Publish document `id` in `collection` with `fields`. Ignored after the subscription stopped. */
  added(collection: string, id: string, fields: DocumentFields = {}): void {
    if (this.stopped) return;
    let ids = this.#documents.get(collection);
    if (!ids) {
      ids = new Set();
      this.#documents.set(collection, ids);
    }
    if (ids.has(id)) throw new Error(`document '${id}' was already added to '${collection}' by this subscription`);
    ids.add(id);
    this.#host.box().added(this, collection, id, fields);
  }

  /** Change fields of a document this subscription published; `undefined` values clear fields. */
  changed(collection: string, id: string, fields: DocumentFields): void {
    if (this.stopped) return;
    if (!this.#documents.get(collection)?.has(id)) {
      throw new Error(`document '${id}' in '${collection}' was not added by this subscription`);
    }
    this.#host.box().changed(this, collection, id, fields);
  }

  /** Withdraw a document this subscription published. */
  removed(collection: string, id: string): void {
    if (this.stopped) return;
    const ids = this.#documents.get(collection);
    if (!ids?.delete(id)) throw new Error(`document '${id}' in '${collection}' was not added by this subscription`);
    this.#host.box().removed(this, collection, id);
  }

  /** Tell the client the initial data is complete (sends `ready` once). */
  ready(): void {
    if (this.stopped || this.#ready) return;
    this.#ready = true;
    if (this.subscriptionId !== undefined) this.#host.sendReady(this.subscriptionId);
  }

  /** End the subscription with an error; the client receives it in `nosub`. */
  error(error: unknown): void {
    if (this.stopped) return;
    this.#host.endSubscription(this, error);
  }

  /** End the subscription; its documents are withdrawn and the client receives `nosub`. */
  stop(): void {
    if (this.stopped) return;
    this.#host.endSubscription(this, undefined);
  }

  /** Run `callback` when the subscription stops for any reason (at once if it already has). */
  onStop(callback: () => void | Promise<void>): void {
    if (this.stopped) this.#runStopCallback(callback);
    else this.#stopCallbacks.push(callback);
  }

  /** Let the connection process its next message before this publication finishes starting. */
  unblock(): void {
    const unblock = this.#unblock;
    this.#unblock = undefined;
    unblock?.();
  }

  /** Set by the session: what `unblock()` releases. @internal */
  setUnblock(unblock: (() => void) | undefined): void {
    this.#unblock = unblock;
  }

  /**
   * Stop for good: abort the signal, run `onStop` callbacks and, for `withdraw`, take this
   * subscription's documents out of the client's view. Called by the session. @internal
   */
  deactivate(mode: DeactivateMode): void {
    if (this.stopped) return;
    this.#abort.abort();
    this.unblock();
    if (mode === 'withdraw') {
      const box = this.#host.box();
      for (const [collection, ids] of this.#documents) for (const id of ids) box.removed(this, collection, id);
    }
    this.#documents.clear();
    for (const callback of this.#stopCallbacks.splice(0)) this.#runStopCallback(callback);
  }

  #runStopCallback(callback: () => void | Promise<void>): void {
    try {
      const result = callback();
      if (result instanceof Promise) result.catch((error: unknown) => this.#host.reportError(error, this.name));
    } catch (error) {
      this.#host.reportError(error, this.name);
    }
  }
}
