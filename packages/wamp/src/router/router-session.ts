import { CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, ConnectionError, type Transport, type TransportMessage } from '@rt/transport';
import { ErrorUri, RtErrorUri } from '../error-uris.js';
import { WampProtocolError } from '../errors.js';
import { randomId } from '../ids.js';
import { MessageType } from '../message-types.js';
import type { Dict, HelloMessage, WampMessage } from '../messages.js';
import type { Serializer } from '../serializer.js';
import { isValidUri } from '../uri.js';
import { anonymousAuthenticator, AuthenticationFailed, type AuthIdentity, type Authenticator, type HelloInfo } from './authenticators.js';
import { PROGRESSIVE_CALL_INVOCATIONS } from './progressive-calls.js';
import type { Realm } from './realm.js';
import type { Action, Authorizer, RoutedSession } from './session-info.js';

/** What a router session needs from its router. */
export interface RouterContext {
  realm(name: string): Realm | undefined;
  authenticators(realm: string): Authenticator[] | undefined;
  authorize: Authorizer | undefined;
  /** Router roles announced in WELCOME. */
  roles: Dict;
  /** Slow-consumer limits. */
  outgoing: OutgoingLimits;
}

/** How much the router buffers for one session whose peer reads too slowly. */
export interface OutgoingLimits {
  /** Once more than this many bytes wait to be sent, the next message ends the session. */
  maxBufferedBytes: number;
  /** How long the buffer may stay above the transport's write high water mark (`Infinity`: no limit). */
  drainTimeoutMs: number;
}

/** WebSocket close code for a peer that broke the server's policy (here: stopped reading). */
const CLOSE_POLICY_VIOLATION = 1008;
/** Longest delay a Node timer takes; longer drain timeouts count as none. */
const MAX_TIMER_MS = 2_147_483_647;
/** A dropped slow consumer gets this long to take its ABORT before its connection is cut. */
const SLOW_CONSUMER_CLOSE_GRACE_MS = 2_000;

const defaultAnonymous = anonymousAuthenticator();

type State = 'hello' | 'authenticating' | 'established' | 'closed';

const caches = new WeakMap<Serializer, WeakMap<WampMessage, TransportMessage>>();

/** Serialize once per serializer even when one message goes to many sessions (events). */
function serializeCached(serializer: Serializer, message: WampMessage): TransportMessage {
  if (message.type !== MessageType.EVENT) return serializer.serialize(message);
  let cache = caches.get(serializer);
  if (cache === undefined) {
    cache = new WeakMap();
    caches.set(serializer, cache);
  }
  let data = cache.get(message);
  if (data === undefined) {
    data = serializer.serialize(message);
    cache.set(message, data);
  }
  return data;
}

const ACTIONS: Partial<Record<number, Action>> = {
  [MessageType.CALL]: 'call', [MessageType.REGISTER]: 'register',
  [MessageType.PUBLISH]: 'publish', [MessageType.SUBSCRIBE]: 'subscribe',
};

/** One client connection on the router, with its session state machine. */
export class RouterSession implements RoutedSession {
  #state: State = 'hello';
  id = 0;
  realm = '';
  authid = '';
  authrole = '';
  authmethod = '';
  authprovider = '';
  authextra: Dict = {};
  roles: Dict = {};
  readonly transport: { serializer: string; peer: string | undefined };
  #realm: Realm | undefined;
  #hello: HelloInfo | undefined;
  #authenticator: Authenticator | undefined;
  #challenge: Dict | undefined;
  /** Set once the session was ended as a slow consumer: nothing more is queued for it. */
  #dropped = false;
  /** Set while a wait for the outgoing buffer to drain is running. */
  #watchingDrain = false;

  constructor(
    readonly context: RouterContext,
    readonly connection: Transport,
    readonly serializer: Serializer,
  ) {
    this.transport = { serializer: serializer.name, peer: connection.remoteAddress };
  }

  /**
   * Handle messages until the connection ends. Messages are pushed to the session as they
   * arrive (no promise per message); while one is handled asynchronously (authentication),
   * the transport queues the next ones, so they are still handled one at a time, in order.
   */
  async run(): Promise<void> {
    const connection = this.connection;
    const stopReading = (): void => connection.onMessage(undefined);
    const onData = (data: TransportMessage): void => {
      if (this.#state === 'closed') return stopReading();
      let message: WampMessage;
      try {
        message = this.serializer.deserialize(data);
      } catch (error) {
        stopReading();
        this.#violation(error instanceof WampProtocolError ? error.message : 'undecodable message');
        return;
      }
      let pending: Promise<void> | void;
      try {
        pending = this.#handle(message);
      } catch (error) {
        if (!(error instanceof WampProtocolError)) throw error;
        stopReading();
        this.#violation(error.message);
        return;
      }
      if (!pending) return;
      stopReading();
      pending.then(
        () => {
          if (this.#state !== 'closed') connection.onMessage(onData);
        },
        (error: unknown) => {
          if (error instanceof WampProtocolError) this.#violation(error.message);
          else connection.abort(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    connection.onMessage(onData);
    await connection.closed;
    this.#end();
  }

  supports(role: string, feature: string): boolean {
    const roleInfo = this.roles[role] as { features?: Dict } | undefined;
    return roleInfo?.features?.[feature] === true;
  }

  /**
   * Deliver one message; never throws (a message the peer cannot take ends its connection).
   * A peer that stops reading is ended as a slow consumer instead of buffering without bound.
   */
  send(message: WampMessage): void {
    const connection = this.connection;
    if (this.#dropped || connection.state !== 'open') return;
    const limit = this.context.outgoing.maxBufferedBytes;
    if (connection.bufferedAmount > limit) {
      this.#dropSlowConsumer(`more than ${limit} bytes were waiting to be sent to this session`);
      return;
    }
    let belowHighWaterMark: boolean;
    try {
      belowHighWaterMark = connection.write(serializeCached(this.serializer, message));
    } catch (error) {
      connection.abort(error instanceof Error ? error : undefined);
      return;
    }
    if (!belowHighWaterMark) this.#watchDrain();
  }

  /** The buffer went above the transport's high water mark: it must drain in time. */
  #watchDrain(): void {
    const timeoutMs = this.context.outgoing.drainTimeoutMs;
    if (this.#watchingDrain || !(timeoutMs <= MAX_TIMER_MS)) return;
    this.#watchingDrain = true;
    this.connection.drained({ timeoutMs }).then(
      () => {
        this.#watchingDrain = false;
      },
      () => this.#dropSlowConsumer(`the outgoing buffer did not drain within ${timeoutMs} ms`),
    );
  }

  /**
   * End a session whose peer stopped reading: leave the realm at once (its pending calls fail as
   * for any callee that left, it gets no more events), queue ABORT `rt.error.slow_consumer`, close,
   * and cut the connection if the peer has not taken it after a short grace.
   */
  #dropSlowConsumer(why: string): void {
    if (this.#dropped || this.#state === 'closed') return;
    this.#dropped = true;
    const connection = this.connection;
    this.#end();
    if (connection.state !== 'open') return;
    connection.write(this.serializer.serialize({ type: MessageType.ABORT, details: { message: why }, reason: RtErrorUri.SLOW_CONSUMER }));
    void connection.close(CLOSE_POLICY_VIOLATION, RtErrorUri.SLOW_CONSUMER);
    const timer = setTimeout(() => connection.abort(new ConnectionError(`slow consumer: ${why}`)), SLOW_CONSUMER_CLOSE_GRACE_MS);
    timer.unref?.();
    void connection.closed.then(() => clearTimeout(timer));
  }

  kill(reason: string, message?: string): void {
    if (this.#state !== 'established') return;
    this.send({ type: MessageType.GOODBYE, details: message === undefined ? {} : { message }, reason });
    this.#end();
    void this.connection.close(CLOSE_NORMAL, 'killed');
  }

  /** End the session from the router side (router shutdown). */
  shutdown(reason: string = ErrorUri.SYSTEM_SHUTDOWN): void {
    if (this.#state === 'established') this.send({ type: MessageType.GOODBYE, details: {}, reason });
    else if (this.#state !== 'closed') this.send({ type: MessageType.ABORT, details: {}, reason });
    this.#end();
    void this.connection.close(CLOSE_NORMAL, 'router shutdown');
  }

  #abort(reason: string, message: string, code = CLOSE_NORMAL): void {
    this.send({ type: MessageType.ABORT, details: { message }, reason });
    this.#end();
    void this.connection.close(code, reason);
  }

  #violation(message: string): void {
    this.#abort(ErrorUri.PROTOCOL_VIOLATION, message, CLOSE_PROTOCOL_ERROR);
  }

  #end(): void {
    if (this.#state === 'established') this.#realm?.leave(this);
    this.#state = 'closed';
  }

  #handle(message: WampMessage): void | Promise<void> {
    switch (this.#state) {
      case 'hello':
        if (message.type !== MessageType.HELLO) throw new WampProtocolError(`expected HELLO, got message type ${message.type}`);
        return this.#onHello(message);
      case 'authenticating':
        if (message.type === MessageType.ABORT) return this.#closeQuietly();
        if (message.type !== MessageType.AUTHENTICATE) throw new WampProtocolError(`expected AUTHENTICATE, got message type ${message.type}`);
        return this.#finishAuth(message.signature);
      case 'established':
        return this.#dispatch(message);
      case 'closed':
        return;
    }
  }

  #closeQuietly(): void {
    this.#end();
    void this.connection.close(CLOSE_NORMAL, 'aborted');
  }

  async #onHello(hello: HelloMessage): Promise<void> {
    const realm = this.context.realm(hello.realm);
    if (realm === undefined) return this.#abort(ErrorUri.NO_SUCH_REALM, `no realm ${hello.realm}`);
    this.#realm = realm;
    this.realm = hello.realm;
    this.roles = hello.details['roles'] as Dict;
    this.id = randomId();
    const details = hello.details;
    this.#hello = {
      realm: hello.realm, sessionId: this.id, details,
      authid: typeof details['authid'] === 'string' ? details['authid'] : undefined,
      authrole: typeof details['authrole'] === 'string' ? details['authrole'] : undefined,
      authextra: (details['authextra'] as Dict | undefined) ?? {},
    };
    const configured = this.context.authenticators(hello.realm);
    const requested = (details['authmethods'] as string[] | undefined) ?? ['anonymous'];
    const authenticator: Authenticator | undefined = configured === undefined
      ? (requested.includes('anonymous') ? defaultAnonymous : undefined)
      : requested.map((method) => configured.find((a) => a.method === method)).find((a) => a !== undefined);
    if (authenticator === undefined) return this.#abort(ErrorUri.NO_AUTH_METHOD, `no acceptable auth method among ${requested.join(', ')}`);
    this.#authenticator = authenticator;
    if (authenticator.challenge === undefined) return this.#finishAuth(undefined);
    let extra: Dict;
    try {
      extra = await authenticator.challenge(this.#hello);
    } catch (error) {
      return this.#authFailed(error);
    }
    this.#challenge = extra;
    this.#state = 'authenticating';
    this.send({ type: MessageType.CHALLENGE, authMethod: authenticator.method, extra });
  }

  #authFailed(error: unknown): void {
    const message = error instanceof AuthenticationFailed ? error.message : 'authentication failed';
    this.#abort(ErrorUri.AUTHENTICATION_FAILED, message);
  }

  async #finishAuth(signature: string | undefined): Promise<void> {
    const authenticator = this.#authenticator;
    const hello = this.#hello;
    if (authenticator === undefined || hello === undefined) throw new WampProtocolError('AUTHENTICATE without HELLO');
    let identity: AuthIdentity;
    try {
      identity = await authenticator.authenticate(hello, signature, this.#challenge);
    } catch (error) {
      return this.#authFailed(error);
    }
    if (this.#state === 'closed') return;
    this.authid = identity.authid;
    this.authrole = identity.authrole;
    this.authmethod = authenticator.method;
    this.authprovider = identity.authprovider ?? 'static';
    this.authextra = identity.authextra ?? {};
    this.#state = 'established';
    this.send({
      type: MessageType.WELCOME, sessionId: this.id,
      details: {
        realm: this.realm, authid: this.authid, authrole: this.authrole, authmethod: this.authmethod,
        authprovider: this.authprovider, authextra: this.authextra, roles: this.context.roles,
      },
    });
    this.#realm?.join(this);
  }

  /** Run `then` when the authorization hook allows the request (callers skip this without a hook). */
  #ifAuthorized(message: WampMessage & { requestId: number }, uri: string, then: () => void): void | Promise<void> {
    return this.#authorized(message, uri).then((ok) => {
      if (ok && this.#state === 'established') then();
    });
  }

  async #authorized(message: WampMessage & { requestId: number }, uri: string): Promise<boolean> {
    const authorize = this.context.authorize;
    const action = ACTIONS[message.type];
    if (authorize === undefined || action === undefined) return true;
    let ok = false;
    try {
      ok = await authorize(this, uri, action);
    } catch {
      ok = false;
    }
    if (ok) return true;
    const silent = message.type === MessageType.PUBLISH && message.options['acknowledge'] !== true;
    const args = [`${this.authrole} may not ${action} ${uri}`];
    if (message.type === MessageType.CALL) this.#realm?.dealer.refuseCall(this, message, ErrorUri.NOT_AUTHORIZED, args);
    else if (!silent) {
      this.send({ type: MessageType.ERROR, requestType: message.type, requestId: message.requestId, details: {}, error: ErrorUri.NOT_AUTHORIZED, args });
    }
    return false;
  }

  #dispatch(message: WampMessage): void | Promise<void> {
    const realm = this.#realm as Realm;
    const authorize = this.context.authorize !== undefined;
    switch (message.type) {
      case MessageType.PUBLISH:
        if (!authorize) return realm.broker.publish(this, message);
        return this.#ifAuthorized(message, message.topic, () => realm.broker.publish(this, message));
      case MessageType.SUBSCRIBE:
        if (!authorize) return realm.broker.subscribe(this, message);
        return this.#ifAuthorized(message, message.topic, () => realm.broker.subscribe(this, message));
      case MessageType.UNSUBSCRIBE:
        return realm.broker.unsubscribe(this, message);
      case MessageType.CALL:
        if (message.options['progress'] === true && !this.supports('caller', PROGRESSIVE_CALL_INVOCATIONS)) {
          throw new WampProtocolError('a progressive CALL from a caller that did not announce progressive_call_invocations');
        }
        // A chunk of a progressive call was authorized (and its URI checked) with the call's first CALL.
        if (realm.dealer.continues(this, message.requestId)) return realm.dealer.call(this, message);
        // A procedure registered under its exact URI (or served inside the router) was validated when it was registered.
        if (!realm.dealer.knows(message.procedure) && !isValidUri(message.procedure)) {
          return realm.dealer.refuseCall(this, message, ErrorUri.INVALID_URI);
        }
        if (!authorize) return realm.dealer.call(this, message);
        return this.#ifAuthorized(message, message.procedure, () => realm.dealer.call(this, message));
      case MessageType.CANCEL:
        return realm.dealer.cancel(this, message);
      case MessageType.REGISTER:
        if (!authorize) return realm.dealer.register(this, message);
        return this.#ifAuthorized(message, message.procedure, () => realm.dealer.register(this, message));
      case MessageType.UNREGISTER:
        return realm.dealer.unregister(this, message);
      case MessageType.YIELD:
        return realm.dealer.yield(this, message);
      case MessageType.ERROR:
        if (message.requestType !== MessageType.INVOCATION) throw new WampProtocolError('a client may only send ERROR for an INVOCATION');
        return realm.dealer.error(this, message);
      case MessageType.GOODBYE:
        this.send({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.GOODBYE_AND_OUT });
        this.#end();
        return this.connection.close(CLOSE_NORMAL, 'goodbye').then(() => undefined);
      case MessageType.ABORT:
        return this.#closeQuietly();
      case MessageType.EVENT_RECEIVED:
        return;
      default:
        throw new WampProtocolError(`a client may not send message type ${message.type}`);
    }
  }
}
