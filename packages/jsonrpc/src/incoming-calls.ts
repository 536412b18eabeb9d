import { AbortError, TimeoutError } from '@rt/transport';
import { EXCESSIVE_RESOURCE_USAGE, INTERNAL_ERROR, REQUEST_CANCELLED, SERVER_BUSY } from './codes.js';
import { Concurrency } from './concurrency.js';
import type { CostMeter } from './cost.js';
import { DeadlineTimer } from './deadline-timer.js';
import { IncomingRequest } from './incoming-request.js';
import { MessageKind, type NotificationMessage, type RequestId, type RequestMessage } from './messages.js';
import type { Protocol } from './protocol.js';
import { ReplyAndDisconnect, RPCError } from './rpc-error.js';
import type { ResolvedSessionOptions } from './session-options.js';

/** What running incoming calls needs from its session. */
export interface IncomingHost {
  /** Run the user's handler (`handleRequest`). */
  handle(request: IncomingRequest): unknown;
  /** The cost reached the hard limit (`excessiveCost()`). */
  excessiveCost(): void;
  /** Send `reply` (if any), then close the connection. */
  replyAndClose(reply: string | undefined): void;
  /** Count an error the peer caused, with its cost. */
  chargeError(cost: number): void;
  /** A handler failed with something that is not an `RPCError`. */
  reportError(error: unknown, request: IncomingRequest): void;
}

/** The reply to one incoming call: its text, nothing (notifications), or a promise of either. */
export type CallReply = string | undefined | Promise<string | undefined>;

const EXCESSIVE = new RPCError(EXCESSIVE_RESOURCE_USAGE, 'excessive resource usage');
const encoder = new TextEncoder();

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs the peer's requests and notifications: the concurrency limit, cost-based delays,
 * the processing timeout, cancellation, and the error each failure is answered with.
 * A handler that returns at once is answered synchronously, without any promise.
 */
export class IncomingCalls {
  readonly #options: ResolvedSessionOptions;
  readonly #cost: CostMeter;
  readonly #host: IncomingHost;
  readonly #slots: Concurrency;
  /** Calls that went asynchronous and have not been answered. */
  readonly #active = new Set<IncomingRequest>();
  readonly #timer = new DeadlineTimer((now) => this.#expire(now));

  constructor(options: ResolvedSessionOptions, cost: CostMeter, host: IncomingHost) {
    this.#options = options;
    this.#cost = cost;
    this.#host = host;
    this.#slots = new Concurrency(options.maxConcurrentRequests);
  }

  /** Calls received and not yet answered. */
  get unanswered(): number {
    return this.#active.size;
  }

  /** Follow the cost: fewer calls at once as it rises (everyone is let through at the hard limit, to be refused). */
  retarget(fraction: number): void {
    const initial = this.#options.maxConcurrentRequests;
    const target = this.#cost.exceeded ? initial : Math.max(1, Math.ceil((1 - fraction) * initial));
    this.#slots.setTarget(target);
  }

  /** Run one call and produce its reply. */
  run(protocol: Protocol, message: RequestMessage | NotificationMessage): CallReply {
    const id = message.kind === MessageKind.Request ? message.id : undefined;
    const request = new IncomingRequest(message.method, message.params, id);
    if (this.#cost.fraction > 0 || !this.#slots.tryAcquire()) return this.#track(protocol, request, this.#throttled(request));
    let result: unknown;
    try {
      result = this.#host.handle(request);
    } catch (error) {
      this.#slots.release();
      return this.#failed(protocol, request, error);
    }
    if (isPromiseLike(result)) {
      request.holdsSlot = true;
      return this.#track(protocol, request, Promise.resolve(result));
    }
    this.#slots.release();
    return this.#succeeded(protocol, request, result);
  }

  /** The peer cancelled request `id` (`$/cancelRequest`): abort its signal. */
  cancel(id: RequestId): void {
    for (const request of this.#active) {
      if (request.id === id) request.abort(new AbortError('the peer cancelled the request'));
    }
  }

  /** The connection is gone: abort every call and let waiting ones through. */
  abortAll(error: Error): void {
    for (const request of [...this.#active]) {
      request.abort(error);
      request.settle?.(error);
    }
    this.#slots.releaseAll();
    this.#timer.stop();
  }

  /** Wait for a slot and the cost delay, then run the handler. `#track` gives the slot back. */
  async #throttled(request: IncomingRequest): Promise<unknown> {
    await this.#slots.acquire();
    if (request.aborted) {
      // Timed out or cancelled while waiting: the call is already answered.
      this.#slots.release();
      throw request.abortReason;
    }
    request.holdsSlot = true;
    if (this.#cost.fraction > 0) {
      this.#cost.recalculate();
      if (this.#cost.exceeded) throw EXCESSIVE;
      const delayMs = this.#cost.delayMs;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (request.aborted) throw request.abortReason;
    }
    return this.#host.handle(request);
  }

  /** Answer once `work` settles, or earlier on timeout or connection loss. */
  #track(protocol: Protocol, request: IncomingRequest, work: Promise<unknown>): Promise<string | undefined> {
    this.#active.add(request);
    request.deadline = Date.now() + this.#options.processingTimeoutMs;
    this.#timer.schedule(request.deadline);
    return new Promise<string | undefined>((resolve) => {
      let done = false;
      const finish = (reply: () => string | undefined): void => {
        if (done) return;
        done = true;
        this.#active.delete(request);
        if (request.holdsSlot) {
          request.holdsSlot = false;
          this.#slots.release();
        }
        resolve(reply());
      };
      request.settle = (error) => finish(() => this.#failed(protocol, request, error));
      work.then(
        (result) => finish(() => this.#succeeded(protocol, request, result)),
        (error: unknown) => finish(() => this.#failed(protocol, request, error)),
      );
    });
  }

  #expire(now: number): number {
    let next = Infinity;
    for (const request of [...this.#active]) {
      if (request.deadline <= now) {
        const timeoutMs = this.#options.processingTimeoutMs;
        const error = new TimeoutError(`request timed out after ${timeoutMs} ms`, timeoutMs);
        request.abort(error);
        request.settle?.(error);
      } else if (request.deadline < next) next = request.deadline;
    }
    return next;
  }

  #succeeded(protocol: Protocol, request: IncomingRequest, result: unknown): string | undefined {
    const id = request.id;
    if (id === undefined) return undefined;
    let text: string;
    try {
      text = protocol.encodeResult(id, result);
    } catch (error) {
      return protocol.encodeError(id, RPCError.internalError('the result could not be encoded as JSON', String(error)));
    }
    const limit = this.#options.maxResponseSize;
    // A UTF-8 byte is at most 3 UTF-16 units away: measure only replies that could be too big.
    if (limit > 0 && text.length * 3 > limit && encoder.encode(text).length > limit) {
      return protocol.encodeError(id, RPCError.invalidRequest(`response too large (over ${limit} bytes)`));
    }
    return text;
  }

  #failed(protocol: Protocol, request: IncomingRequest, error: unknown): string | undefined {
    if (error instanceof ReplyAndDisconnect) {
      const reply =
        error.reply instanceof RPCError
          ? this.#failed(protocol, request, error.reply)
          : this.#succeeded(protocol, request, error.reply);
      this.#host.replyAndClose(reply);
      return undefined;
    }
    const failure = this.#toRPCError(error, request);
    this.#host.chargeError(this.#options.cost.errorCost + failure.cost);
    const reply = request.id === undefined ? undefined : protocol.encodeError(request.id, failure);
    if (failure !== EXCESSIVE) return reply;
    this.#host.excessiveCost();
    this.#host.replyAndClose(reply);
    return undefined;
  }

  #toRPCError(error: unknown, request: IncomingRequest): RPCError {
    if (error instanceof RPCError) return error;
    if (request.aborted && error === request.abortReason) {
      if (error instanceof TimeoutError) return new RPCError(SERVER_BUSY, 'server busy - request timed out');
      if (error instanceof AbortError) return new RPCError(REQUEST_CANCELLED, 'request cancelled');
    }
    this.#host.reportError(error, request);
    return new RPCError(INTERNAL_ERROR, 'Internal error');
  }
}
