import {
  AbortError,
  CLOSE_NORMAL,
  type CloseInfo,
  ConnectionError,
  TimeoutError,
  type Transport,
  type TransportMessage,
} from '@rt/transport';
import { BatchBuilder } from './batch.js';
import { CostMeter } from './cost.js';
import { IncomingCalls } from './incoming-calls.js';
import type { RPCRequest } from './incoming-request.js';
import { MessageRouter } from './message-router.js';
import type { Params, RequestId } from './messages.js';
import type { Handlers, MethodMap, ParamsOf, ResultOf, UntypedMethods } from './method-map.js';
import { OutgoingCalls } from './outgoing-calls.js';
import type { CallOptions } from './pending-calls.js';
import { parseErrorMessage, type Protocol } from './protocol.js';
import { readIncoming } from './read-incoming.js';
import { RPCError } from './rpc-error.js';
import { type ResolvedSessionOptions, resolveSessionOptions, type SessionOptions } from './session-options.js';
import type {
  AttachableSession,
  BatchOptions,
  CloseOptions,
  SessionKind,
  SessionState,
  SessionStats,
} from './session-types.js';


/**
 * The shared half of `ServerSession` and `ClientSession`: one JSON-RPC connection on which
 * both sides may send requests, notifications and batches, and answer the other's.
 *
 * Answer requests by overriding `handleRequest`, or pass `{ handlers }`: positional params
 * are spread as arguments, named params arrive as one object, `this` is the session.
 */
export abstract class RPCSession<
  Remote extends MethodMap<Remote> = UntypedMethods,
  Local extends MethodMap<Local> = UntypedMethods,
> implements AttachableSession
{
  /** Resolves once the connection has ended and every pending request has settled. */
  readonly closed: Promise<CloseInfo>;
  /** Traffic counters. */
  readonly stats: SessionStats;

  readonly #ownOptions: SessionOptions<Local>;
  readonly #handlers: Handlers<Local> | undefined;
  #options!: ResolvedSessionOptions;
  #protocol!: Protocol;
  #transport: Transport | undefined;
  #state: SessionState = 'idle';
  #closeInfo: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  readonly #outgoing: OutgoingCalls;
  #incoming!: IncomingCalls;
  #router!: MessageRouter;
  #cost!: CostMeter;
  #drainWait: Promise<void> | undefined;

  constructor(options: SessionOptions<Local> = {}) {
    const now = Date.now();
    this.stats = { recvCount: 0, recvSize: 0, sendCount: 0, sendSize: 0, errors: 0, startTime: now, lastSend: now, lastRecv: now };
    this.#ownOptions = options;
    this.#handlers = options.handlers;
    this.closed = new Promise<CloseInfo>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#outgoing = new OutgoingCalls((id) => this.#sendCancel(id));
    this.#configure({});
  }

  /** True for sessions the local side accepted (servers throttle their peers by default). */
  protected abstract get isServer(): boolean;

  /** `client` for sessions that dialled, `server` for sessions a server accepted (aiorpcx's `session_kind`). */
  get kind(): SessionKind {
    return this.isServer ? 'server' : 'client';
  }

  /** The protocol in use (after auto-detection, the detected one). */
  get protocol(): Protocol {
    return this.#protocol;
  }

  /** The transport, once connected. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** The peer's address, when known. */
  get remoteAddress(): string | undefined {
    return this.#transport?.remoteAddress;
  }

  /** The cost the peer has run up (see cost-based throttling). */
  get cost(): number {
    return this.#cost.cost;
  }

  /** Incoming requests received and not yet answered. */
  get unansweredRequestCount(): number {
    return this.#incoming.unanswered;
  }

  /** Outgoing requests waiting for their reply. */
  get pendingRequestCount(): number {
    return this.#outgoing.size;
  }

  /** Lifecycle: `idle` until attached, `open`, `closing` once `close()` or `abort()` was called, `closed`. */
  get state(): SessionState {
    return this.#state;
  }

  /** True unless the session is open and its transport too (aiorpcx's `is_closing()`). */
  isClosing(): boolean {
    return this.#state !== 'open' || this.#transport?.state !== 'open';
  }

  /**
   * Run this session over `transport` (used by `Server`, `connect` and `createConnection`;
   * also handy with `createMemoryPair()` in tests). `inherited` options fill in what the
   * session's own options leave out.
   */
  attach(transport: Transport, inherited: SessionOptions = {}): void {
    if (this.#state !== 'idle') throw new Error(`cannot attach a session that is ${this.#state}`);
    this.#configure(inherited);
    this.#transport = transport;
    this.#state = 'open';
    void this.#readLoop(transport);
  }

  /**
   * Send a request and resolve its result. Rejects with `RPCError` for an error reply,
   * `TimeoutError` after `timeoutMs` (default: the session's `requestTimeoutMs`),
   * `AbortError` when `signal` aborts, and `ConnectionError` when the connection is lost.
   */
  sendRequest<M extends keyof Remote & string>(
    method: M,
    params?: ParamsOf<Remote[M]>,
    options: CallOptions = {},
  ): Promise<ResultOf<Remote[M]>> {
    try {
      const transport = this.#openTransport();
      const { text, reply } = this.#outgoing.request(
        this.#protocol,
        method,
        params as Params | undefined,
        this.#options.requestTimeoutMs,
        options,
      );
      this.#write(transport, text);
      return reply as Promise<ResultOf<Remote[M]>>;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Send a notification (no reply). Throws `ConnectionError` when not connected. */
  sendNotification<M extends keyof Remote & string>(method: M, params?: ParamsOf<Remote[M]>): void {
    const transport = this.#openTransport();
    this.#write(transport, this.#outgoing.notification(this.#protocol, method, params as Params | undefined));
  }

  /**
   * Send several calls as one batch. `build` adds them; the promise resolves one entry per
   * request, in request order: its result, or the `RPCError` it got (or rejects with a
   * `BatchError` when `raiseErrors` is set and any failed). A batch of notifications only
   * resolves `[]` once sent. When the peer refuses the whole batch with one error whose
   * id is null (as JSON-RPC 2.0 prescribes for a batch it cannot read), the promise
   * rejects with that `RPCError`, whatever `raiseErrors` says.
   */
  async sendBatch(build: (batch: BatchBuilder<Remote>) => void, options: BatchOptions = {}): Promise<unknown[]> {
    const batch = new BatchBuilder<Remote>();
    build(batch);
    if (batch.length === 0) throw RPCError.invalidRequest('a batch needs at least one call');
    const protocol = this.#protocol;
    if (!protocol.allowBatches) throw RPCError.invalidRequest(`${protocol.name} does not allow batches`);
    const transport = this.#openTransport();
    const outgoing = this.#outgoing.batch(protocol, batch.calls, this.#options.requestTimeoutMs, options);
    this.#write(transport, outgoing.text);
    return outgoing.results(options.raiseErrors ?? false);
  }

  /**
   * Close gracefully and resolve once closed; pending requests reject with
   * `ConnectionError`. The connection is dropped if not closed after `forceAfterMs`.
   */
  async close(options: CloseOptions = {}): Promise<CloseInfo> {
    const transport = this.#transport;
    if (this.#state === 'open') this.#state = 'closing';
    if (!transport) {
      this.#connectionEnded({ code: CLOSE_NORMAL, reason: 'closed before connecting', wasClean: true });
      return this.closed;
    }
    void transport.close(CLOSE_NORMAL);
    const timer = setTimeout(() => transport.abort(), options.forceAfterMs ?? 30_000);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drop the connection at once. */
  abort(): void {
    if (this.#state === 'open') this.#state = 'closing';
    if (this.#transport) this.#transport.abort();
    else this.#connectionEnded({ code: CLOSE_NORMAL, reason: 'aborted before connecting', wasClean: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Add (or refund, when negative) cost to the peer's account. */
  bumpCost(delta: number): void {
    this.#cost.bump(delta);
  }

  /**
   * Apply the cost decay and `extraCost()` now and adjust the throttle (aiorpcx's
   * `recalc_concurrency`). Sessions do this whenever the cost drifts by 100; call it on a
   * timer to let an idle peer's cost decay, or after `extraCost()` changed.
   */
  recalcConcurrency(): void {
    this.#cost.recalculate();
  }

  /**
   * Give up every request still waiting for its reply: each rejects with `AbortError`
   * (and the peer is told, when a cancel method is set). The connection stays open.
   */
  cancelPendingRequests(reason = 'the pending requests were cancelled'): void {
    this.#outgoing.cancelAll(new AbortError(reason));
  }

  /**
   * Answer one request or notification. The default looks the method up in `handlers`;
   * override it to dispatch yourself. Throw an `RPCError` to answer with that error.
   */
  protected handleRequest(request: RPCRequest): unknown {
    const handlers = this.#handlers as Record<string, unknown> | undefined;
    const handler = handlers && Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined;
    if (typeof handler !== 'function') throw RPCError.methodNotFound(request.method);
    const params = request.params;
    if (params === undefined) return handler.call(this) as unknown;
    if (Array.isArray(params)) return handler.apply(this, params) as unknown;
    return handler.call(this, params) as unknown;
  }

  /** A dynamic amount added to the cost when deciding how hard to throttle (may be negative). */
  protected extraCost(): number {
    return 0;
  }

  /** Called once when the connection has ended, after pending requests were rejected. */
  protected connectionLost(_info: CloseInfo): void {}

  /** Called when the cost reached the hard limit, just before the session is refused and closed. */
  protected excessiveCost(): void {}

  /** Called for replies that match no pending request (often the peer's `id: null` diagnostics). */
  protected unmatchedResponse(_id: RequestId, _error: RPCError | undefined): void {}

  #configure(inherited: SessionOptions): void {
    const options = resolveSessionOptions(this.#ownOptions as SessionOptions, inherited, this.isServer);
    this.#options = options;
    this.#protocol = options.protocol;
    this.#cost = new CostMeter(options.cost, (fraction) => this.#incoming.retarget(fraction), () => this.#extraCost());
    this.#incoming = new IncomingCalls(options, this.#cost, {
      handle: (request) => this.handleRequest(request),
      excessiveCost: () => this.excessiveCost(),
      replyAndClose: (reply) => {
        if (reply !== undefined) this.#reply(reply);
        void this.close();
      },
      chargeError: (cost) => this.#chargeError(cost),
      reportError: (error, request) => this.#report(error, request),
    });
    this.#router = new MessageRouter(this.#incoming, this.#outgoing, options.cancelMethod, {
      reply: (text) => this.#reply(text),
      chargeError: () => this.#chargeError(),
      unmatched: (id, error) => this.unmatchedResponse(id, error),
    });
  }

  /** `extraCost()`, or 0 when it throws (the error goes to `onError`). */
  #extraCost(): number {
    try {
      return this.extraCost();
    } catch (error) {
      this.#report(error, undefined);
      return 0;
    }
  }

  /** Hand an error from user code to `onError`; an error thrown by `onError` itself is dropped. */
  #report(error: unknown, request: RPCRequest | undefined): void {
    try {
      this.#ownOptions.onError?.(error, request);
    } catch {
      // Nothing sensible is left to do with it, and it must not break the session.
    }
  }

  #openTransport(): Transport {
    const transport = this.#transport;
    if (!transport) throw new ConnectionError('the session is not connected');
    if (this.#state !== 'open' || transport.state !== 'open') {
      const info = this.#closeInfo;
      throw new ConnectionError('the connection is closed', info ? { closeCode: info.code, closeReason: info.reason } : {});
    }
    return transport;
  }

  #write(transport: Transport, text: string): void {
    const stats = this.stats;
    stats.sendCount += 1;
    stats.sendSize += text.length;
    stats.lastSend = Date.now();
    this.#cost.bump(text.length * this.#options.cost.byteCost);
    if (!transport.write(text) && !this.#drainWait) {
      this.#drainWait = transport.drained({ timeoutMs: this.#options.maxSendDelayMs }).then(
        () => {
          this.#drainWait = undefined;
        },
        () => {
          this.#drainWait = undefined;
          transport.abort(new TimeoutError('the peer stopped reading', this.#options.maxSendDelayMs));
        },
      );
    }
  }

  /** Send a reply unless the connection is gone (the peer can no longer receive it). */
  #reply(text: string): void {
    const transport = this.#transport;
    if (transport && transport.state === 'open') this.#write(transport, text);
  }

  #sendCancel(id: RequestId): void {
    const method = this.#options.cancelMethod;
    const transport = this.#transport;
    if (method === null || !transport || transport.state !== 'open' || this.#state !== 'open') return;
    this.#write(transport, this.#outgoing.notification(this.#protocol, method, { id }));
  }

  async #readLoop(transport: Transport): Promise<void> {
    try {
      for await (const message of transport) {
        this.#receive(message);
        if (this.#drainWait) await this.#drainWait;
      }
    } catch (error) {
      transport.abort(error instanceof Error ? error : new Error(String(error)));
    }
    this.#connectionEnded(await transport.closed);
  }

  #receive(message: TransportMessage): void {
    const size = typeof message === 'string' ? message.length : message.byteLength;
    const stats = this.stats;
    stats.recvCount += 1;
    stats.recvSize += size;
    stats.lastRecv = Date.now();
    this.#cost.bump(size * this.#options.cost.byteCost);
    const incoming = readIncoming(message, this.#protocol, this.#options.maxBatchLength);
    if (!incoming) {
      this.#rejectParse();
      return;
    }
    const { protocol, decoded } = incoming;
    this.#protocol = protocol;
    if (decoded.batch) this.#router.dispatchBatch(protocol, decoded.messages);
    else this.#router.dispatch(protocol, decoded.message);
  }

  #rejectParse(): void {
    this.#chargeError(this.#options.cost.errorCost * 10);
    const message = parseErrorMessage();
    this.#reply(this.#protocol.encodeError(message.id, message.error));
  }

  #chargeError(cost = this.#options.cost.errorCost): void {
    this.stats.errors += 1;
    this.#cost.bump(cost);
  }

  #connectionEnded(info: CloseInfo): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeInfo = info;
    const error = new ConnectionError(`the connection was closed${info.reason ? `: ${info.reason}` : ''}`, {
      closeCode: info.code,
      closeReason: info.reason,
      ...(info.error ? { cause: info.error } : {}),
    });
    this.#outgoing.rejectAll(error);
    this.#incoming.abortAll(error);
    try {
      this.connectionLost(info);
    } catch (error) {
      this.#report(error, undefined);
    }
    this.#resolveClosed(info);
  }
}
