import type { Dict, EventMessage } from '../messages.js';
import type { EventHandler, SubscriptionEvent } from './types.js';

/** One subscription of this client, as needed to deliver events and to subscribe again after a reconnect. */
export interface LocalSubscription {
  /** The subscribed topic URI (or pattern). */
  topic: string;
  /** The SUBSCRIBE options sent. */
  options: Dict;
  /** The handlers, called in order for every event. */
  handlers: EventHandler[];
  /** The delivery still running (an async handler), which later events wait for; `undefined` when idle. */
  tail: Promise<void> | undefined;
}

/** The subscriber side: this client's subscriptions by id, and in-order event delivery to their handlers. */
export class SubscriptionTable {
  readonly #subscriptions = new Map<number, LocalSubscription>();
  readonly #onHandlerError: (error: Error) => void;

  /** `onHandlerError` gets what a handler threw or rejected with. */
  constructor(onHandlerError: (error: Error) => void) {
    this.#onHandlerError = onHandlerError;
  }

  /** The number of subscriptions. */
  get size(): number {
    return this.#subscriptions.size;
  }

  /** Add `handler` to subscription `id` (SUBSCRIBED arrived), creating it when new. */
  add(id: number, topic: string, handler: EventHandler, options: Dict): void {
    const existing = this.#subscriptions.get(id);
    if (existing !== undefined) existing.handlers.push(handler);
    else this.#subscriptions.set(id, { topic, options, handlers: [handler], tail: undefined });
  }

  /** Forget subscription `id` (UNSUBSCRIBED arrived, or the router revoked it); returns what it was. */
  delete(id: number): LocalSubscription | undefined {
    const subscription = this.#subscriptions.get(id);
    this.#subscriptions.delete(id);
    return subscription;
  }

  /** The subscription ids for `topic`. */
  idsFor(topic: string): number[] {
    return [...this.#subscriptions].filter(([, s]) => s.topic === topic).map(([id]) => id);
  }

  /** Remove and return every subscription (the session is gone; a reconnect subscribes them again). */
  takeAll(): LocalSubscription[] {
    const all = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    return all;
  }

  /** Deliver an EVENT to its subscription's handlers; events for unknown subscriptions are dropped. */
  deliver(message: EventMessage): void {
    const subscription = this.#subscriptions.get(message.subscriptionId);
    if (subscription === undefined) return;
    const details = message.payload === undefined ? message.details : { ...message.details, payload: message.payload };
    const event = {
      args: message.args ?? [], kwargs: message.kwargs ?? {}, details, publicationId: message.publicationId,
      subscriptionId: message.subscriptionId,
      topic: typeof message.details['topic'] === 'string' ? message.details['topic'] : subscription.topic,
      retained: message.details['retained'] === true,
    };
    // In order: while an async handler runs, later events queue behind it; when idle, deliver at once.
    let tail: Promise<void> | undefined;
    if (subscription.tail === undefined) {
      tail = this.#runHandlers(subscription.handlers, event);
      if (tail === undefined) return;
    } else {
      tail = subscription.tail.then(() => this.#runHandlers(subscription.handlers, event));
    }
    subscription.tail = tail;
    void tail.then(() => {
      if (subscription.tail === tail) subscription.tail = undefined;
    });
  }

  /** Call every handler; resolves (never rejects) once async ones finish, `undefined` when all were sync. */
  #runHandlers(handlers: EventHandler[], event: SubscriptionEvent): Promise<void> | undefined {
    let pending: Promise<void>[] | undefined;
    for (const handler of handlers) {
      try {
        const result: unknown = handler(event);
        if (typeof (result as PromiseLike<void> | undefined)?.then === 'function') {
          (pending ??= []).push(Promise.resolve(result as PromiseLike<void>).catch((error: unknown) => this.#handlerFailed(error)));
        }
      } catch (error) {
        this.#handlerFailed(error);
      }
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => undefined);
  }

  #handlerFailed(error: unknown): void {
    this.#onHandlerError(error instanceof Error ? error : new Error(String(error)));
  }
}
