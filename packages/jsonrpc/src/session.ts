import { CLOSE_NORMAL, type CloseInfo, ConnectionError, TimeoutError, type Transport, type TransportMessage } from '@rt/transport';
import { BatchBuilder } from './batch.js';
import { CostMeter } from './cost.js';
import { type CallReply, IncomingCalls } from './incoming-calls.js';
import type { RPCRequest } from './incoming-request.js';
import {
  type DecodedMessage,
  isJsonObject,
  isRequestId,
  MessageKind,
  type NotificationMessage,
  type Params,
  type RequestId,
} from './messages.js';
import type { Handlers, MethodMap, ParamsOf, ResultOf, UntypedMethods } from './method-map.js';
import { type CallOptions, PendingCalls } from './pending-calls.js';
import { parseErrorMessage, type Protocol } from './protocol.js';
import { readIncoming } from './read-incoming.js';
import { BatchError, RPCError } from './rpc-error.js';
import { type ResolvedSessionOptions, resolveSessionOptions, type SessionOptions } from './session-options.js';
import type { AttachableSession, BatchOptions, CloseOptions, SessionState, SessionStats } from './session-types.js';


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
  readonly stats: SessionStats = { recvCount: 0, recvSize: 0, sendCount: 0, sendSize: 0, errors: 0 };

  readonly #ownOptions: SessionOptions<Local>;
  readonly #handlers: Handlers<Local> | undefined;
  #options!: ResolvedSessionOptions;
  #protocol!: Protocol;
  #transport: Transport | undefined;
  #state: SessionState = 'idle';
  #closeInfo: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  #nextId = 0;
  #pending: PendingCalls;
  #incoming!: IncomingCalls;
  #cost!: CostMeter;
  #drainWait: Promise<void> | undefined;

  constructor(options: SessionOptions<Local> = {}) {
    this.#ownOptions = options;
    this.#handlers = options.handlers;
    this.closed = new Promise<CloseInfo>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#pending = new PendingCalls((id) => this.#sendCancel(id));
    this.#configure({});
  }

  /** True for sessions the local side accepted (servers throttle their peers by default). */
  protected abstract get isServer(): boolean;

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
    return this.#pending.size;
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
      const id = this.#nextId++;
      const text = this.#protocol.encodeRequest(id, method, params as Params | undefined);
      const reply = this.#pending.add(id, options.timeoutMs ?? this.#options.requestTimeoutMs, options.signal);
      this.#write(transport, text);
      return reply as Promise<ResultOf<Remote[M]>>;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Send a notification (no reply). Throws `ConnectionError` when not connected. */
  sendNotification<M extends keyof Remote & string>(method: M, params?: ParamsOf<Remote[M]>): void {
    const transport = this.#openTransport();
    this.#write(transport, this.#protocol.encodeNotification(method, params as Params | undefined));
  }

  /**
   * Send several calls as one batch. `build` adds them; the promise resolves one entry per
   * request, in request order: its result, or the `RPCError` it got (or rejects with a
   * `BatchError` when `raiseErrors` is set and any failed). A batch of notifications only
   * resolves `[]` once sent.
   */
  async sendBatch(build: (batch: BatchBuilder<Remote>) => void, options: BatchOptions = {}): Promise<unknown[]> {
    const batch = new BatchBuilder<Remote>();
    build(batch);
    if (batch.length === 0) throw RPCError.invalidRequest('a batch needs at least one call');
    const protocol = this.#protocol;
    if (!protocol.allowBatches) throw RPCError.invalidRequest(`${protocol.name} does not allow batches`);
    const transport = this.#openTransport();
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const parts: string[] = [];
    const replies: Promise<unknown>[] = [];
    for (const call of batch.calls) {
      if (call.notification) {
        parts.push(protocol.encodeNotification(call.method, call.params));
        continue;
      }
      const id = this.#nextId++;
      parts.push(protocol.encodeRequest(id, call.method, call.params));
      replies.push(this.#pending.add(id, timeoutMs, options.signal));
    }
    this.#write(transport, protocol.encodeBatch(parts));
    const settled = await Promise.allSettled(replies);
    const results: unknown[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') results.push(outcome.value);
      else if (outcome.reason instanceof RPCError) results.push(outcome.reason);
      else throw outcome.reason;
    }
    if (options.raiseErrors && results.some((result) => result instanceof RPCError)) throw new BatchError(results);
    return results;
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
    this.#cost = new CostMeter(options.cost, (fraction) => this.#incoming.retarget(fraction));
    this.#incoming = new IncomingCalls(options, this.#cost, {
      handle: (request) => this.handleRequest(request),
      extraCost: () => this.extraCost(),
      excessiveCost: () => this.excessiveCost(),
      replyAndClose: (reply) => {
        if (reply !== undefined) this.#reply(reply);
        void this.close();
      },
      chargeError: (cost) => this.#chargeError(cost),
      reportError: (error, request) => this.#report(error, request),
    });
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
    this.stats.sendCount += 1;
    this.stats.sendSize += text.length;
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

  readonly #replyIfAny = (reply: string | undefined): void => {
    if (reply !== undefined) this.#reply(reply);
  };

  /** Send a reply unless the connection is gone (the peer can no longer receive it). */
  #reply(text: string): void {
    const transport = this.#transport;
    if (transport && transport.state === 'open') this.#write(transport, text);
  }

  #sendCancel(id: RequestId): void {
    const method = this.#options.cancelMethod;
    const transport = this.#transport;
    if (method === null || !transport || transport.state !== 'open' || this.#state !== 'open') return;
    this.#write(transport, this.#protocol.encodeNotification(method, { id }));
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
    this.stats.recvCount += 1;
    this.stats.recvSize += size;
    this.#cost.bump(size * this.#options.cost.byteCost);
    const incoming = readIncoming(message, this.#protocol, this.#options.maxBatchLength);
    if (!incoming) {
      this.#rejectParse();
      return;
    }
    const { protocol, decoded } = incoming;
    this.#protocol = protocol;
    if (decoded.batch) this.#receiveBatch(protocol, decoded.messages);
    else this.#dispatch(protocol, decoded.message);
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

  #dispatch(protocol: Protocol, message: DecodedMessage): void {
    switch (message.kind) {
      case MessageKind.Request: {
        const reply = this.#incoming.run(protocol, message);
        if (typeof reply === 'string') this.#reply(reply);
        else if (reply) void reply.then(this.#replyIfAny);
        return;
      }
      case MessageKind.Notification:
        if (message.method === this.#options.cancelMethod) this.#cancelIncoming(message);
        else void this.#incoming.run(protocol, message);
        return;
      case MessageKind.Result:
        if (!this.#pending.resolve(message.id, message.result)) this.#unmatched(message.id, undefined);
        return;
      case MessageKind.Error:
        if (!this.#pending.reject(message.id, message.error)) this.#unmatched(message.id, message.error);
        return;
      case MessageKind.BadResponse:
        this.#chargeError();
        if (!this.#pending.reject(message.id, message.error)) this.unmatchedResponse(message.id, message.error);
        return;
      case MessageKind.Invalid:
        this.#chargeError();
        this.#reply(protocol.encodeError(message.id, message.error));
        return;
    }
  }

  #unmatched(id: RequestId, error: RPCError | undefined): void {
    this.#chargeError();
    this.unmatchedResponse(id, error);
  }

  #receiveBatch(protocol: Protocol, messages: readonly DecodedMessage[]): void {
    const replies: CallReply[] = [];
    for (const message of messages) {
      if (message.kind === MessageKind.Request) replies.push(this.#incoming.run(protocol, message));
      else if (message.kind === MessageKind.Invalid) {
        this.#chargeError();
        replies.push(protocol.encodeError(message.id, message.error));
      } else this.#dispatch(protocol, message);
    }
    if (replies.length === 0) return;
    const sendParts = (parts: readonly (string | undefined)[]): void => {
      const texts = parts.filter((part): part is string => part !== undefined);
      if (texts.length > 0) this.#reply(protocol.encodeBatch(texts));
    };
    if (replies.every((reply) => typeof reply !== 'object')) sendParts(replies as (string | undefined)[]);
    else void Promise.all(replies).then(sendParts);
  }

  #cancelIncoming(message: NotificationMessage): void {
    const params = message.params;
    const id = isJsonObject(params) ? params['id'] : undefined;
    if (isRequestId(id)) this.#incoming.cancel(id);
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
    this.#pending.rejectAll(error);
    this.#incoming.abortAll(error);
    try {
      this.connectionLost(info);
    } catch (error) {
      this.#report(error, undefined);
    }
    this.#resolveClosed(info);
  }
}
