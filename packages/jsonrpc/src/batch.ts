import type { OutgoingCall, Params } from './messages.js';
import type { MethodMap, ParamsOf, UntypedMethods } from './method-map.js';

/**
 * Collects the calls of one batch. `sendBatch(batch => { ... })` passes one in; the
 * batch is sent when the callback returns.
 */
export class BatchBuilder<Remote extends MethodMap<Remote> = UntypedMethods> {
  readonly #calls: OutgoingCall[] = [];

  /** The calls added so far, in order. */
  get calls(): readonly OutgoingCall[] {
    return this.#calls;
  }

  /** Number of calls (requests and notifications). */
  get length(): number {
    return this.#calls.length;
  }

  /** Number of requests (calls that get a result). */
  get requestCount(): number {
    return this.#calls.filter((call) => !call.notification).length;
  }

  /** Add a request; its result appears in the batch results, in request order. */
  addRequest<M extends keyof Remote & string>(method: M, params?: ParamsOf<Remote[M]>): this {
    this.#calls.push({ method, params: params as Params | undefined, notification: false });
    return this;
  }

  /** Add a notification (no result). */
  addNotification<M extends keyof Remote & string>(method: M, params?: ParamsOf<Remote[M]>): this {
    this.#calls.push({ method, params: params as Params | undefined, notification: true });
    return this;
  }
}
