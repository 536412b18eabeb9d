import { IdNullErrors } from './id-null-errors.js';
import type { OutgoingCall, Params, RequestId } from './messages.js';
import { type CallOptions, PendingCalls } from './pending-calls.js';
import type { Protocol } from './protocol.js';
import { BatchError, RPCError } from './rpc-error.js';

/** A batch ready to send: its text, and how to wait for its results once sent. */
export interface OutgoingBatch {
  /** The batch message. */
  readonly text: string;
  /** Resolve the results in request order (see `RPCSession.sendBatch`). Call after sending. */
  results(raiseErrors: boolean): Promise<unknown[]>;
}

/**
 * The calls this side sends: request ids (increasing integers), the replies they wait
 * for, and the settling of replies, including error replies whose id is null.
 */
export class OutgoingCalls {
  readonly #pending: PendingCalls;
  readonly #idNull: IdNullErrors;
  #nextId = 0;

  /** `onGiveUp` runs when a call times out or is aborted (to tell the peer). */
  constructor(onGiveUp: (id: RequestId) => void) {
    this.#pending = new PendingCalls(onGiveUp);
    this.#idNull = new IdNullErrors(this.#pending);
  }

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /** Encode a request and wait for its reply; `timeoutMs` applies unless `options` overrides it. */
  request(protocol: Protocol, method: string, params: Params | undefined, timeoutMs: number, options: CallOptions): {
    text: string;
    reply: Promise<unknown>;
  } {
    const id = this.#nextId++;
    const text = protocol.encodeRequest(id, method, params);
    return { text, reply: this.#pending.add(id, options.timeoutMs ?? timeoutMs, options.signal) };
  }

  /** Encode a notification. */
  notification(protocol: Protocol, method: string, params: Params | undefined): string {
    this.#idNull.notificationSent(this.#nextId);
    return protocol.encodeNotification(method, params);
  }

  /** Encode a batch and register its requests. */
  batch(protocol: Protocol, calls: readonly OutgoingCall[], timeoutMs: number, options: CallOptions): OutgoingBatch {
    const parts: string[] = [];
    const ids: number[] = [];
    const replies: Promise<unknown>[] = [];
    for (const call of calls) {
      if (call.notification) {
        parts.push(protocol.encodeNotification(call.method, call.params));
        continue;
      }
      const id = this.#nextId++;
      parts.push(protocol.encodeRequest(id, call.method, call.params));
      ids.push(id);
      replies.push(this.#pending.add(id, options.timeoutMs ?? timeoutMs, options.signal));
    }
    if (ids.length === 0) this.#idNull.notificationSent(this.#nextId);
    const sent = ids.length > 0 ? this.#idNull.open(ids) : undefined;
    return {
      text: protocol.encodeBatch(parts),
      results: async (raiseErrors) => {
        const settled = await Promise.allSettled(replies);
        if (!sent) return [];
        this.#idNull.close(sent);
        if (sent.failure) throw sent.failure;
        const results: unknown[] = [];
        for (const outcome of settled) {
          if (outcome.status === 'fulfilled') results.push(outcome.value);
          else if (outcome.reason instanceof RPCError) results.push(outcome.reason);
          else throw outcome.reason;
        }
        if (raiseErrors && results.some((result) => result instanceof RPCError)) throw new BatchError(results);
        return results;
      },
    };
  }

  /** Settle request `id` with its result; false when no such request waits. */
  resolve(id: RequestId, result: unknown): boolean {
    return this.#pending.resolve(id, result);
  }

  /** Settle with an error reply: by id, or (id null) what it unambiguously answers; false when unmatched. */
  reject(id: RequestId, error: RPCError): boolean {
    return id === null ? this.#idNull.settleLone(error) : this.#pending.reject(id, error);
  }

  /** Settle with the id-null errors of a reply array whose other replies answered `answered`. */
  rejectInBatch(errors: readonly RPCError[], answered: readonly RequestId[]): boolean {
    return this.#idNull.settleInBatch(errors, answered);
  }

  /** Give up every waiting request with `error`, telling the peer as on timeout. */
  cancelAll(error: Error): void {
    this.#pending.cancelAll(error);
  }

  /** Reject every waiting request with `error` (the connection is gone). */
  rejectAll(error: Error): void {
    this.#pending.rejectAll(error);
  }
}
