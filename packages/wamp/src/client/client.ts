import { CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, Emitter, type ReconnectPolicyOptions, type Transport } from '@rt/transport';
import { ErrorUri } from '../error-uris.js';
import { ClientClosedError, ErrorRegistry, WampProtocolError } from '../errors.js';
import { IdGenerator } from '../ids.js';
import { MessageType } from '../message-types.js';
import type { Dict, ErrorMessage, WampMessage } from '../messages.js';
import type { Serializer } from '../serializer.js';
import { isValidUri } from '../uri.js';
import { Call } from './call.js';
import { CallTable } from './calls.js';
import { joinSession, routerSupports, type JoinOptions, type SessionDetails } from './join.js';
import { callOptionsDict, publishOptionsDict, registerOptionsDict, setPayload, subscribeOptionsDict } from './options.js';
import { reconnectPolicy, reopen } from './reconnect.js';
import { RegistrationTable, type LocalRegistration } from './registrations.js';
import { PendingRequests } from './requests.js';
import { handleRevocation, type RevocationEvents } from './revocation.js';
import { SubscriptionTable, type LocalSubscription } from './subscriptions.js';
import type { CallOptions, EventHandler, ProcedureHandler, PublishOptions, RegisterOptions, SubscribeOptions } from './types.js';
import { ValidUriCache } from './uri-cache.js';

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
} & RevocationEvents;

/** The resolved result of an unacknowledged publish. */
const NOTHING: Promise<undefined> = Promise.resolve(undefined);

/**
 * A joined WAMP session: call and register procedures, publish and subscribe to topics.
 * Create it with `connect()`.
 */
export class Client {
  /** Session-scope request IDs. */
  readonly idGen = new IdGenerator();
  /** `join`, `leave`, `restored`, `error`, `registration-revoked` and `subscription-revoked` events. */
  readonly events = new Emitter<ClientEvents>();
  /** Maps error URIs to error classes for failed calls. */
  readonly errors: ErrorRegistry;
  #transport: Transport | undefined;
  #session: SessionDetails | undefined;
  #closing = false;
  #closed = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  readonly #trySendFn = (message: WampMessage): boolean => this.#trySend(message);
  readonly #calls = new CallTable(this.#trySendFn, () => this.#transport?.drained() ?? Promise.resolve());
  readonly #requests = new PendingRequests();
  readonly #registrations = new RegistrationTable(this.#trySendFn);
  readonly #subscriptions = new SubscriptionTable((error) => this.events.emit('error', error));
  readonly #validUris = new ValidUriCache();
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

  /** Handle pushed messages until the session or the connection ends (no promise per message). */
  async #run(transport: Transport): Promise<void> {
    let reason = 'connection lost';
    transport.onMessage((data) => {
      let message: WampMessage;
      try {
        message = this.serializer.deserialize(data);
        if (this.#dispatch(message)) return;
        reason = message.type === MessageType.GOODBYE || message.type === MessageType.ABORT ? message.reason : reason;
      } catch (error) {
        transport.onMessage(undefined);
        reason = ErrorUri.PROTOCOL_VIOLATION;
        if (transport.state === 'open') {
          transport.write(this.serializer.serialize({ type: MessageType.ABORT, details: { message: (error as Error).message }, reason }));
          void transport.close(CLOSE_PROTOCOL_ERROR, 'protocol violation');
        }
        return;
      }
      transport.onMessage(undefined);
      void transport.close(CLOSE_NORMAL, reason);
    });
    await transport.closed;
    this.#lost(reason);
  }

  #lost(reason: string): void {
    this.#transport = undefined;
    this.#session = undefined;
    this.#goodbye?.();
    const error = new ClientClosedError(`the WAMP session ended (${reason})`);
    this.#calls.rejectAll(error);
    this.#requests.rejectAll(error);
    this.#registrations.abortAll(error);
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
    const policy = reconnectPolicy(this.options.reconnect);
    const registrations = this.#registrations.takeAll();
    const subscriptions = this.#subscriptions.takeAll();
    const transport = await reopen(policy, this.#closeSignal.signal, async () => {
      const opened = await this.openTransport();
      try {
        await this.#join(opened);
      } catch (error) {
        // A connection whose join failed (ABORT, auth refused, timeout) is of no use: drop it.
        opened.abort();
        throw error;
      }
      return opened;
    });
    if (transport === undefined) {
      this.#finish();
      return;
    }
    if (this.#closing) {
      this.#transport = undefined;
      this.#session = undefined;
      await transport.close(CLOSE_NORMAL, 'client closed');
      this.#finish();
      return;
    }
    void this.#run(transport);
    await this.#restore(registrations, subscriptions);
  }

  /** Register and subscribe again what the lost session had, then emit `restored` (or `error`). */
  async #restore(registrations: LocalRegistration[], subscriptions: LocalSubscription[]): Promise<void> {
    try {
      for (const r of registrations) await this.#register(r.procedure, r.handler, r.options);
      for (const s of subscriptions) for (const handler of s.handlers) await this.#subscribe(s.topic, handler, s.options);
      this.events.emit('restored', { registrations: this.#registrations.size, subscriptions: this.#subscriptions.size });
    } catch (error) {
      this.events.emit('error', error as Error);
    }
  }

  #send(message: WampMessage): void {
    const transport = this.#transport;
    if (transport === undefined || transport.state !== 'open' || this.#closing) throw new ClientClosedError();
    transport.write(this.serializer.serialize(message));
  }

  /** Write `message` if the session is open; false when the write buffer is above its high water mark. */
  #trySend(message: WampMessage): boolean {
    if (this.#transport?.state !== 'open') return true;
    return this.#transport.write(this.serializer.serialize(message));
  }

  /** Send a request; `onAnswer` runs as soon as the answer arrives, before any later message is handled. */
  #request(message: WampMessage & { requestId: number }, onAnswer?: (answer: WampMessage) => void): Promise<WampMessage> {
    return new Promise((resolve, reject) => {
      this.#send(message);
      const answered = (answer: WampMessage): void => {
        onAnswer?.(answer);
        resolve(answer);
      };
      this.#requests.add(message.requestId, { resolve: answered, reject });
    });
  }

  /** Handle one message; false ends the session. */
  #dispatch(message: WampMessage): boolean {
    switch (message.type) {
      case MessageType.RESULT:
        this.#calls.result(message);
        return true;
      case MessageType.ERROR:
        this.#onError(message);
        return true;
      case MessageType.INVOCATION:
        this.#registrations.invoke(message);
        return true;
      case MessageType.INTERRUPT:
        this.#registrations.interrupt(message.requestId);
        return true;
      case MessageType.EVENT:
        this.#subscriptions.deliver(message);
        return true;
      case MessageType.UNREGISTERED:
      case MessageType.UNSUBSCRIBED:
        // Request id 0: the router revoked a registration or subscription.
        if (message.requestId === 0) handleRevocation(message, this.#registrations, this.#subscriptions, this.events);
        else this.#requests.answer(message);
        return true;
      case MessageType.REGISTERED:
      case MessageType.SUBSCRIBED:
      case MessageType.PUBLISHED:
        this.#requests.answer(message);
        return true;
      case MessageType.GOODBYE:
        if (this.#goodbye === undefined) this.#trySend({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.GOODBYE_AND_OUT });
        return false;
      case MessageType.ABORT:
        return false;
      default:
        throw new WampProtocolError(`a router may not send message type ${message.type} in an established session`);
    }
  }

  #onError(message: ErrorMessage): void {
    const error = this.errors.create(message.error, { args: message.args, kwargs: message.kwargs, details: message.details });
    if (message.requestType === MessageType.CALL) this.#calls.fail(message.requestId, error);
    else this.#requests.fail(message.requestId, error);
  }

  /**
   * Call `procedure`; await the returned `Call` for the result, iterate it for progress. With
   * `progressive` (or `inputs`) `args`/`kwargs` are the first chunk of the input: send more with
   * `call.send()`, the last with `call.end()`.
   */
  call(procedure: string, args?: unknown[], options: CallOptions = {}): Call {
    const requestId = this.idGen.next();
    const progressive = options.progressive === true || options.inputs !== undefined;
    const call = new Call(requestId, procedure, this.#calls.cancel, progressive ? this.#calls.input : undefined);
    if (!this.#validUris.check(procedure)) {
      call.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid procedure URI ${procedure}`] }));
      return call;
    }
    if (progressive && this.#session !== undefined && !routerSupports(this.#session, 'dealer', 'progressive_call_invocations')) {
      call.reject(this.errors.create(ErrorUri.FEATURE_NOT_SUPPORTED, { args: ['the router does not support progressive call invocations'] }));
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
    this.#calls.track(call, options);
    if (options.inputs !== undefined) void this.#calls.stream(call, options.inputs);
    return call;
  }

  async #register(procedure: string, handler: ProcedureHandler, options: Dict): Promise<number> {
    const answer = await this.#request({ type: MessageType.REGISTER, requestId: this.idGen.next(), options, procedure });
    const id = (answer as { registrationId: number }).registrationId;
    this.#registrations.add(id, { procedure, handler, options });
    return id;
  }

  /** Register `handler` for `procedure`; resolves the registration id. */
  register(procedure: string, handler: ProcedureHandler, options: RegisterOptions = {}): Promise<number> {
    const match = options.match ?? 'exact';
    if (!isValidUri(procedure, match)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid procedure URI ${procedure}`] }));
    return this.#register(procedure, handler, registerOptionsDict(options));
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
    return this.#registrations.idsFor(procedure);
  }

  /** Publish to `topic`; resolves the publication id when `acknowledge` is set, else `undefined`. */
  publish(topic: string, args?: unknown[], options: PublishOptions = {}): Promise<number | undefined> {
    if (!this.#validUris.check(topic)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid topic URI ${topic}`] }));
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
    // The subscription is known before the next message is handled: events (retained ones) may follow SUBSCRIBED at once.
    const answer = await this.#request({ type: MessageType.SUBSCRIBE, requestId: this.idGen.next(), options, topic }, (subscribed) => {
      this.#subscriptions.add((subscribed as { subscriptionId: number }).subscriptionId, topic, handler, options);
    });
    return (answer as { subscriptionId: number }).subscriptionId;
  }

  /** Subscribe `handler` to `topic`; resolves the subscription id. */
  subscribe(topic: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<number> {
    const match = options.match ?? 'exact';
    if (!isValidUri(topic, match)) return Promise.reject(this.errors.create(ErrorUri.INVALID_URI, { args: [`invalid topic URI ${topic}`] }));
    return this.#subscribe(topic, handler, subscribeOptionsDict(options));
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
    return this.#subscriptions.idsFor(topic);
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
