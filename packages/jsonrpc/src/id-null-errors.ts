import type { RequestId } from './messages.js';
import type { PendingCalls } from './pending-calls.js';
import type { RPCError } from './rpc-error.js';

/** A batch that was sent and is not yet fully answered. */
export interface SentBatch {
  /** Its request ids, in request order: consecutive integers. */
  readonly ids: readonly number[];
  /** Set when the peer refused the whole batch with one error object whose id is null. */
  failure: RPCError | undefined;
}

/**
 * Settles outgoing calls answered by error replies with `"id": null`.
 *
 * JSON-RPC 2.0 answers a message whose id cannot be read (a parse error, an invalid
 * request, a refused batch) with an error whose id is null. Such an error names no call,
 * so it settles one only when nothing else can be meant: exactly one request or one batch
 * is waiting, and no notification was sent after it. Inside a reply array, id-null
 * errors answer the batch the array's other replies belong to, paired in order with that
 * batch's unanswered requests when their numbers match. Anything else stays unmatched.
 * Request ids are the session's increasing integers, so "sent after" is a comparison.
 */
export class IdNullErrors {
  readonly #pending: PendingCalls;
  readonly #batches = new Set<SentBatch>();
  /** The first request id sent after the last notification. */
  #quietFrom = 0;

  constructor(pending: PendingCalls) {
    this.#pending = pending;
  }

  /** Record a batch just sent (its ids consecutive); `close` it once every request in it has settled. */
  open(ids: readonly number[]): SentBatch {
    const batch: SentBatch = { ids, failure: undefined };
    this.#batches.add(batch);
    return batch;
  }

  /** Forget a batch whose requests have all settled. */
  close(batch: SentBatch): void {
    this.#batches.delete(batch);
  }

  /** Record that a notification was sent; `nextId` is the id the next request will get. */
  notificationSent(nextId: number): void {
    this.#quietFrom = nextId;
  }

  /**
   * One id-null error object received on its own. It settles the only call waiting: a
   * single request, or a batch (which fails as a whole unless part of it was answered
   * already). False when that is ambiguous; the error is then unmatched.
   */
  settleLone(error: RPCError): boolean {
    const waiting = this.#pending.ids();
    const first = waiting[0];
    if (typeof first !== 'number' || first < this.#quietFrom) return false;
    const batch = this.#batchOf(first);
    if (!batch) return waiting.length === 1 && this.#pending.reject(first, error);
    if (!waiting.every((id) => contains(batch, id))) return false;
    if (waiting.length === batch.ids.length) batch.failure = error;
    for (const id of waiting) this.#pending.reject(id, error);
    return true;
  }

  /**
   * Id-null errors inside a reply array whose other replies answered `answered`. They
   * settle the unanswered requests of the batch that array answers, in order, when there
   * are as many errors as unanswered requests. False when that is ambiguous.
   */
  settleInBatch(errors: readonly RPCError[], answered: readonly RequestId[]): boolean {
    const batch = answered.length > 0 ? this.#batchAnswered(answered) : this.#onlyBatchWaiting();
    if (!batch) return false;
    const open = batch.ids.filter((id) => this.#pending.has(id));
    if (open.length !== errors.length) return false;
    open.forEach((id, index) => this.#pending.reject(id, errors[index]));
    return true;
  }

  #batchAnswered(answered: readonly RequestId[]): SentBatch | undefined {
    const found = new Set(answered.map((id) => (typeof id === 'number' ? this.#batchOf(id) : undefined)));
    if (found.size !== 1) return undefined;
    return [...found][0];
  }

  #onlyBatchWaiting(): SentBatch | undefined {
    const waiting = this.#pending.ids();
    const first = waiting[0];
    if (typeof first !== 'number' || first < this.#quietFrom) return undefined;
    const batch = this.#batchOf(first);
    return batch && waiting.every((id) => contains(batch, id)) ? batch : undefined;
  }

  #batchOf(id: number): SentBatch | undefined {
    for (const batch of this.#batches) if (contains(batch, id)) return batch;
    return undefined;
  }
}

/** True when `id` is one of the batch's (consecutive) request ids. */
function contains(batch: SentBatch, id: RequestId): boolean {
  const first = batch.ids[0];
  return typeof id === 'number' && first !== undefined && id >= first && id < first + batch.ids.length;
}
