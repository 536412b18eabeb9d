import { CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, delay, Emitter, ReconnectPolicy, type ReconnectPolicyOptions, type Transport } from '@rt/transport';
import { ErrorUri } from '../error-uris.js';
import { ClientClosedError, ErrorRegistry, WampProtocolError } from '../errors.js';
import { IdGenerator } from '../ids.js';
import { MessageType } from '../message-types.js';
import type { Dict, ErrorMessage, EventMessage, InvocationMessage, WampMessage } from '../messages.js';
import type { Serializer } from '../serializer.js';
import { isValidUri } from '../uri.js';
import { Call } from './call.js';
import { InvocationAbort, runInvocation, type InvocationSink } from './callee.js';
import { joinSession, type JoinOptions, type SessionDetails } from './join.js';
import { callOptionsDict, publishOptionsDict, setPayload } from './options.js';
import type {
  CallOptions, CallResult, CancelMode, EventHandler, ProcedureHandler, PublishOptions, RegisterOptions, SubscribeOptions,
  SubscriptionEvent,
} from './types.js';


/** Options of a `Client` (see `connect`). */
export interface ClientOptions extends JoinOptions {
  /** Reconnect after a lost connection, re-joining and restoring registrations and subscriptions. */
  reconnect?: boolean | ReconnectPolicyOptions | undefined;
  /** URI → error class mapping for errors from callees. */
  errors?: ErrorRegistry | undefined;
}

/** Client events. */
export type ClientEvents = {
  /** The session was (re)joined. */
  join: [SessionDetails];
  /** The session ended; `willReconnect` tells whether the client will try again. */
  leave: [{ reason: string; willReconnect: boolean }];
  /** After a reconnect: every registration and subscription was made again. */
  restored: [{ registrations: number; subscriptions: number }];
  /** A subscription handler threw, or restoring state after a reconnect failed. */
  error: [Error];
};

interface LocalRegistration { procedure: string; handler: ProcedureHandler; options: Dict }
interface LocalSubscription {
  topic: string;
  options: Dict;
  handlers: EventHandler[];
  /** The delivery still running (an async handler), which later events wait for; `undefined` when idle. */
  tail: Promise<void> | undefined;
}
interface PendingRequest { resolve(message: WampMessage): void; reject(error: Error): void }


/** The resolved result of an unacknowledged publish. */
const NOTHING: Promise<undefined> = Promise.resolve(undefined);

const ANSWERS = new Set<number>([
  MessageType.REGISTERED, MessageType.UNREGISTERED, MessageType.SUBSCRIBED, MessageType.UNSUBSCRIBED, MessageType.PUBLISHED,
]);

/**
 * A joined WAMP session: call and register procedures, publish and subscribe to topics.
 * Create it with `connect()`.
 */
export class Client {
  /** Session-scope request IDs. */
  readonly idGen = new IdGenerator();
  /** `join`, `leave`, `restored` and `error` events. */
  readonly events = new Emitter<ClientEvents>();
  /** Maps error URIs to error classes for failed calls. */
  readonly errors: ErrorRegistry;
  #transport: Transport | undefined;
  #session: SessionDetails | undefined;
  #closing = false;
  #closed = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  readonly #calls = new Map<number, Call>();
  readonly #requests = new Map<number, PendingRequest>();
  readonly #registrations = new Map<number, LocalRegistration>();
  readonly #subscriptions = new Map<number, LocalSubscription>();
  readonly #invocations = new Map<number, InvocationAbort>();
  #goodbye: (() => void) | undefined;
  /** Aborted by `close()`: stops a reconnect loop's backoff wait. */
  readonly #closeSignal = new AbortController();

  constructor(
    private readonly serializer: Serializer,
    private readonly openTransport: () => Promise<Transport>,
    private readonly options: ClientOptions,
  ) {
    this.errors = options.errors ?? new ErrorRegistry();
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** The joined session, or `undefined` while (re)connecting and after close. */
  get session(): SessionDetails | undefined {
    return this.#session;
  }

  /** @internal Connect and join; used by `connect()`. */
  async start(): Promise<void> {
    const transport = await this.openTransport();
    try {
      await this.#join(transport);
    } catch (error) {
      transport.abort();
      this.#finish();
      throw error;
    }
    void this.#run(transport);
  }

  async #join(transport: Transport): Promise<void> {
    const session = await joinSession(transport, this.serializer, this.options);
    this.#transport = transport;
    this.#session = session;
    this.events.emit('join', session);
  }

  async #run(transport: Transport): Promise<void> {
    let reason = 'connection lost';
    try {
      for await (const data of transport) {
        const message = this.serializer.deserialize(data);
        if (!this.#dispatch(message)) {
          reason = message.type === MessageType.GOODBYE || message.type === MessageType.ABORT ? message.reason : reason;
          break;
        }
      }
    } catch (error) {
      reason = ErrorUri.PROTOCOL_VIOLATION;
      if (transport.state === 'open') {
        transport.write(this.serializer.serialize({ type: MessageType.ABORT, details: { message: (error as Error).message }, reason }));
        void transport.close(CLOSE_PROTOCOL_ERROR, 'protocol violation');
      }
    }
    if (transport.state === 'open') await transport.close(CLOSE_NORMAL, reason);
    this.#lost(reason);
  }

  #lost(reason: string): void {
    this.#transport = undefined;
    this.#session = undefined;
    this.#goodbye?.();
    const error = new ClientClosedError(`the WAMP session ended (${reason})`);
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
    for (const request of this.#requests.values()) request.reject(error);
    this.#requests.clear();
    for (const controller of this.#invocations.values()) controller.abort(error);
    this.#invocations.clear();
    const willReconnect = !this.#closing && this.options.reconnect !== undefined && this.options.reconnect !== false;
    this.events.emit('leave', { reason, willReconnect });
    if (willReconnect) void this.#reconnect();
    else this.#finish();
  }

  #finish(): void {
    this.#closed = true;
    this.#resolveDone();
  }

  async #reconnect(): Promise<void> {
    const policy = new ReconnectPolicy(typeof this.options.reconnect === 'object' ? this.options.reconnect : { initialDelayMs: 100, maxDelayMs: 5000 });
    const registrations = [...this.#registrations.values()];
    const subscriptions = [...this.#subscriptions.values()];
    this.#registrations.clear();
    this.#subscriptions.clear();
    for (let attempt = 0; policy.canRetry(attempt) && !this.#closing; attempt++) {
      try {
        await delay(policy.delayFor(attempt), this.#closeSignal.signal);
      } catch {
        break;
      }
      let transport: Transport;
      try {
        transport = await this.openTransport();
        await this.#join(transport);
      } catch {
        continue;
      }
      if (this.#closing) {
        this.#transport = undefined;
        this.#session = undefined;
        await transport.close(CLOSE_NORMAL, 'client closed');
        break;
      }
      void this.#run(transport);
      try {
        for (const r of registrations) await this.#register(r.procedure, r.handler, r.options);
        for (const s of subscriptions) for (const handler of s.handlers) await this.#subscribe(s.topic, handler, s.options);
        this.events.emit('restored', { registrations: this.#registrations.size, subscriptions: this.#subscriptions.size });
      } catch (error) {
        this.events.emit('error', error as Error);
      }
      return;
    }
    this.#finish();
  }

  #send(message: WampMessage): void {
    const transport = this.#transport;
    if (transport === undefined || transport.state !== 'open' || this.#closing) throw new ClientClosedError();
    transport.write(this.serializer.serialize(message));
  }

  #trySend(message: WampMessage): void {
    if (this.#transport?.state === 'open') this.#transport.write(this.serializer.serialize(message));
  }

  #request(message: WampMessage & { requestId: number }): Promise<WampMessage> {
    return new Promise((resolve, reject) => {
      this.#send(message);
      this.#requests.set(message.requestId, { resolve, reject });
    });
  }

  /** Handle one message; false ends the session. */
  #dispatch(message: WampMessage): boolean {
    switch (message.type) {
      case MessageType.RESULT: {
        const call = this.#calls.get(message.requestId);
        if (call === undefined) return true;
        const result: CallResult = { args: message.args ?? [], kwargs: message.kwargs ?? {}, details: message.details };
        if (message.payload !== undefined) result.details = { ...message.details, payload: message.payload };
        if (message.details['progress'] === true) call.progress(result);
        else {
          this.#calls.delete(message.requestId);
          call.resolve(result);
        }
        return true;
      }
      case MessageType.ERROR:
        this.#onError(message);
        return true;
      case MessageType.INVOCATION:
        this.#onInvocation(message);
        return true;
      case MessageType.INTERRUPT:
        this.#invocations.get(message.requestId)?.abort(new ClientClosedError('the call was canceled'));
        return true;
      case MessageType.EVENT:
        this.#onEvent(message);
        return true;
      case MessageType.UNREGISTERED:
        if (message.requestId === 0) {
          const id = message.details?.['registration'];
          if (typeof id === 'number') this.#registrations.delete(id);
          return true;
        }
        return this.#answer(message);
      case MessageType.REGISTERED:
      case MessageType.SUBSCRIBED:
      case MessageType.UNSUBSCRIBED:
      case MessageType.PUBLISHED:
        return this.#answer(message);
      case MessageType.GOODBYE:
        if (this.#goodbye === undefined) this.#trySend({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.GOODBYE_AND_OUT });
        return false;
      case MessageType.ABORT:
        return false;
      default:
        throw new WampProtocolError(`a router may not send message type ${message.type} in an established session`);
    }
  }

  #answer(message: WampMessage & { requestId: number }): boolean {
    if (!ANSWERS.has(message.type)) return true;
    const request = this.#requests.get(message.requestId);
    if (request !== undefined) {
      this.#requests.delete(message.requestId);
      request.resolve(message);
    }
    return true;
  }

  #onError(message: ErrorMessage): void {
    const error = this.errors.create(message.error, { args: message.args, kwargs: message.kwargs, details: message.details });
    if (message.requestType === MessageType.CALL) {
      const call = this.#calls.get(message.requestId);
      this.#calls.delete(message.requestId);
      call?.reject(error);
      return;
    }
    const request = this.#requests.get(message.requestId);
    this.#requests.delete(message.requestId);
    request?.reject(error);
  }

  #onInvocation(message: InvocationMessage): void {
    const registration = this.#registrations.get(message.registrationId);
    if (registration === undefined) {
      this.#trySend({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, requestId: message.requestId, details: {}, error: ErrorUri.NO_SUCH_REGISTRATION });
      return;
    }
    const controller = new InvocationAbort();
    const timeout = message.details['timeout'];
    if (typeof timeout === 'number' && timeout > 0) {
      controller.timer = setTimeout(() => controller.abort(new ClientClosedError('the call timed out')), timeout);
    }
    const procedure = typeof message.details['procedure'] === 'string' ? message.details['procedure'] : registration.procedure;
    // Only an invocation still running can be interrupted: one answered synchronously is not tracked.
    if (runInvocation(message, procedure, registration.handler, controller, this.#invocationSink)) {
      this.#invocations.set(message.requestId, controller);
    }
  }

  /** Shared by every invocation (no closures per invocation). */
  readonly #invocationSink: InvocationSink = {
    send: (message) => this.#trySend(message),
    done: (requestId, controller) => {
      if (controller.timer !== undefined) clearTimeout(controller.timer);
      if (this.#invocations.get(requestId) === controller) this.#invocations.delete(requestId);
    },
  };

  #onEvent(message: EventMessage): void {
    const subscription = this.#subscriptions.get(message.subscriptionId);
    if (subscription === undefined) return;
    const details = message.payload === undefined ? message.details : { ...message.details, payload: message.payload };
    const event = {
      args: message.args ?? [], kwargs: message.kwargs ?? {}, details, publicationId: message.publicationId,
      subscriptionId: message.subscriptionId,
      topic: typeof message.details['topic'] === 'string' ? message.details['topic'] : subscription.topic,
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
    this.events.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  /** The last URIs that passed `isValidUri` (exact match): apps call and publish to a few URIs over and over. */
  readonly #validUris = new Set<string>();

  #validUri(uri: string): boolean {
    if (this.#validUris.has(uri)) return true;
    if (!isValidUri(uri)) return false;
    if (this.#validUris.size >= 64) this.#validUris.clear();
    this.#validUris.add(uri);
    return true;
  }

  /** Call `procedure`; await the returned `Call` for the result, iterate it for progress. */
  call(procedure: string, args?: unknown[], options: CallOptions = {}): Call {
    const requestId = this.idGen.next();
    const call = new Call(requestId, procedure, this.#cancelCall);
    if (!this.#validUri(procedure)) {
      call.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid procedure URI ${procedure}`] }));
      return call;
    }
    const message: WampMessage = { type: MessageType.CALL, requestId, options: callOptionsDict(options), procedure };
    setPayload(message, args, options.kwargs);
    try {
      this.#send(message);
    } catch (error) {
      call.reject(error as Error);
      return call;
    }
    this.#calls.set(requestId, call);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => call.cancel(options.cancelMode ?? 'killnowait');
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        void call.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
      }
    }
    return call;
  }

  /** Shared by every `Call` (one function, not one closure per call). */
  readonly #cancelCall = (call: Call, mode: CancelMode): void => this.#cancel(call, mode);

  #cancel(call: Call, mode: CancelMode): void {
    if (!this.#calls.has(call.requestId)) return;
    this.#trySend({ type: MessageType.CANCEL, requestId: call.requestId, options: { mode } });
  }

  async #register(procedure: string, handler: ProcedureHandler, options: Dict): Promise<number> {
    const answer = await this.#request({ type: MessageType.REGISTER, requestId: this.idGen.next(), options, procedure });
    const id = (answer as { registrationId: number }).registrationId;
    this.#registrations.set(id, { procedure, handler, options });
    return id;
  }

  /** Register `handler` for `procedure`; resolves the registration id. */
  register(procedure: string, handler: ProcedureHandler, options: RegisterOptions = {}): Promise<number> {
    const match = options.match ?? 'exact';
    if (!isValidUri(procedure, match)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid procedure URI ${procedure}`] }));
    const dict: Dict = { ...options.options };
    if (match !== 'exact') dict['match'] = match;
    if (options.invoke !== undefined) dict['invoke'] = options.invoke;
    if (options.discloseCaller === true) dict['disclose_caller'] = true;
    return this.#register(procedure, handler, dict);
  }

  /** Unregister `procedure` (only `registrationId` when given). */
  async unregister(procedure: string, registrationId?: number): Promise<void> {
    const ids = registrationId === undefined ? this.getRegistrationIds(procedure) : [registrationId];
    if (ids.length === 0) throw this.errors.create(ErrorUri.NO_SUCH_REGISTRATION, { args: [`${procedure} is not registered`] });
    for (const id of ids) {
      await this.#request({ type: MessageType.UNREGISTER, requestId: this.idGen.next(), registrationId: id });
      this.#registrations.delete(id);
    }
  }

  /** The registration ids for `procedure`. */
  getRegistrationIds(procedure: string): number[] {
    return [...this.#registrations].filter(([, r]) => r.procedure === procedure).map(([id]) => id);
  }

  /** Publish to `topic`; resolves the publication id when `acknowledge` is set, else `undefined`. */
  publish(topic: string, args?: unknown[], options: PublishOptions = {}): Promise<number | undefined> {
    if (!this.#validUri(topic)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid topic URI ${topic}`] }));
    const message: WampMessage = { type: MessageType.PUBLISH, requestId: this.idGen.next(), options: publishOptionsDict(options), topic };
    setPayload(message, args, options.kwargs);
    if (options.acknowledge === true) {
      return this.#request(message).then((answer) => (answer as { publicationId: number }).publicationId);
    }
    try {
      this.#send(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return NOTHING;
  }

  async #subscribe(topic: string, handler: EventHandler, options: Dict): Promise<number> {
    const answer = await this.#request({ type: MessageType.SUBSCRIBE, requestId: this.idGen.next(), options, topic });
    const id = (answer as { subscriptionId: number }).subscriptionId;
    const existing = this.#subscriptions.get(id);
    if (existing !== undefined) existing.handlers.push(handler);
    else this.#subscriptions.set(id, { topic, options, handlers: [handler], tail: undefined });
    return id;
  }

  /** Subscribe `handler` to `topic`; resolves the subscription id. */
  subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<number> {
    const match = options.match ?? 'exact';
    if (!isValidUri(topic, match)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid topic URI ${topic}`] }));
    const dict: Dict = { ...options.options };
    if (match !== 'exact') dict['match'] = match;
    return this.#subscribe(topic, handler, dict);
  }

  /** Unsubscribe from `topic` (only `subscriptionId` when given). */
  async unsubscribe(topic: string, subscriptionId?: number): Promise<void> {
    const ids = subscriptionId === undefined ? this.getSubscriptionIds(topic) : [subscriptionId];
    if (ids.length === 0) throw this.errors.create(ErrorUri.NO_SUCH_SUBSCRIPTION, { args: [`not subscribed to ${topic}`] });
    for (const id of ids) {
      await this.#request({ type: MessageType.UNSUBSCRIBE, requestId: this.idGen.next(), subscriptionId: id });
      this.#subscriptions.delete(id);
    }
  }

  /** The subscription ids for `topic`. */
  getSubscriptionIds(topic: string): number[] {
    return [...this.#subscriptions].filter(([, s]) => s.topic === topic).map(([id]) => id);
  }

  /** Leave the session with GOODBYE and close the connection. */
  async close(options: { reason?: string; details?: Dict; timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing) return this.#done;
    this.#closing = true;
    this.#closeSignal.abort();
    const transport = this.#transport;
    if (transport !== undefined && transport.state === 'open') {
      const replied = new Promise<void>((resolve) => {
        this.#goodbye = resolve;
      });
      transport.write(this.serializer.serialize({ type: MessageType.GOODBYE, details: options.details ?? {}, reason: options.reason ?? ErrorUri.CLOSE_NORMAL }));
      const timer = setTimeout(() => transport.abort(), options.timeoutMs ?? 5000);
      await Promise.race([replied, transport.closed]);
      clearTimeout(timer);
      await transport.close(CLOSE_NORMAL, 'goodbye');
    } else if (transport === undefined) {
      this.#finish();
    }
    await this.#done;
  }

  /** Resolves once the client is closed for good (closed, or reconnecting gave up). */
  waitUntilDone(): Promise<void> {
    return this.#done;
  }

  /** True once the client is closed for good. */
  get closed(): boolean {
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
