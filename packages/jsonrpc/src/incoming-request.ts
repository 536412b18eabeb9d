import type { Params, RequestId } from './messages.js';

/** A request or notification received from the peer, as `handleRequest` sees it. */
export interface RPCRequest {
  /** The method name. */
  readonly method: string;
  /** The params as sent: an array (positional), an object (named), or `undefined`. */
  readonly params: Params | undefined;
  /** The request id; `undefined` for a notification (which gets no reply). */
  readonly id: RequestId | undefined;
  /** Aborted when the peer cancels the request, the processing timeout hits, or the connection is lost. */
  readonly signal: AbortSignal;
}

/** The session's record of one incoming call. The abort controller is made only when asked for. */
export class IncomingRequest implements RPCRequest {
  readonly method: string;
  readonly params: Params | undefined;
  readonly id: RequestId | undefined;
  /** When processing must be finished (a `Date.now()` timestamp), once it went asynchronous. */
  deadline = Infinity;
  /** True while the call holds one of the session's concurrency slots. */
  holdsSlot = false;
  /** Settles the call with an error at once (processing timeout, lost connection). */
  settle: ((error: unknown) => void) | undefined;
  #controller: AbortController | undefined;
  #abortReason: unknown = undefined;
  #aborted = false;

  constructor(method: string, params: Params | undefined, id: RequestId | undefined) {
    this.method = method;
    this.params = params;
    this.id = id;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** True once `abort` was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason given to `abort`. */
  get abortReason(): unknown {
    return this.#abortReason;
  }

  /** Abort the call's signal. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}
