import type { IncomingHttpHeaders } from 'node:http';
import { messageToText, type Transport, type TransportMessage, CLOSE_MESSAGE_TOO_BIG } from '@rt/transport';
import { HeartbeatPulse } from '../heartbeat-pulse.js';
import type { EJSON, EJSONValue } from '../ejson.js';
import { DDPError, EJSONError, type DDPErrorObject } from '../errors.js';
import { decodeClientMessage, encodeServerMessage, MalformedMessageError } from '../message-codec.js';
import type { ClientMessage, ConnectMessage, MethodMessage, ServerMessage, SubMessage } from '../messages.js';
import { randomId } from '../random-id.js';
import { chooseVersion, hasHeartbeats } from '../versions.js';
import type { DocumentFields } from '../document-diff.js';
import { clientErrorObject, INTERNAL_ERROR } from './error-objects.js';
import { emitDifference, MergeBox, type MergeBoxSink } from './merge-box.js';
import { publishCursors } from './publish-cursors.js';
import { MethodInvocation, type InvocationHost } from './method-invocation.js';
import { PublicationContext, type PublicationHost } from './publication-context.js';
import { rateLimitRefusal } from './rate-limit-check.js';
import type { RateLimiter, RateLimitType } from './rate-limiter.js';
import type { DDPConnection, ErrorContext, MethodHandler, PublishHandler } from './types.js';
import { WriteFence } from './write-fence.js';

/** Policy violation: the client broke a limit. */
const CLOSE_POLICY_VIOLATION = 1008;

/** Server-wide settings and registries a session reads. */
export interface SessionConfig {
  readonly ejson: EJSON;
  readonly versions: readonly string[];
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly maxSubscriptions: number;
  readonly maxQueuedMessages: number;
  readonly maxBufferedBytes: number;
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly publications: ReadonlyMap<string, PublishHandler>;
  readonly universalPublications: readonly PublishHandler[];
  readonly rateLimiter: RateLimiter;
  onConnection(connection: DDPConnection): void;
  reportError(error: unknown, context: ErrorContext): void;
}

/** What the session knows about the client before the handshake. */
export interface ClientInfo {
  readonly remoteAddress?: string | undefined;
  readonly headers?: IncomingHttpHeaders | undefined;
}

type SessionState = 'awaiting-connect' | 'open' | 'closed';
type QueuedMessage = SubMessage | MethodMessage | { msg: 'unsub'; id: string };

/**
 * One client connection: the DDP handshake, then an ordered queue of `sub`, `unsub` and
 * `method` messages (each runs to completion, or until it calls `unblock()`, before the
 * next starts, as in Meteor), the merge box, heartbeats and limits.
 */
export class Session implements PublicationHost, InvocationHost {
  readonly connection: DDPConnection;
  #state: SessionState = 'awaiting-connect';
  #userId: string | null = null;
  #version = '';
  #sessionId = '';
  readonly #config: SessionConfig;
  readonly #transport: Transport;
  readonly #abort = new AbortController();
  readonly #subscriptions = new Map<string, PublicationContext>();
  #universal: PublicationContext[] = [];
  readonly #queue: QueuedMessage[] = [];
  #pumping = false;
  #box: MergeBox;
  #heldReady: string[] | undefined;
  #rerun: Promise<void> = Promise.resolve();
  #heartbeat: HeartbeatPulse | undefined;
  readonly #closeCallbacks: (() => void)[] = [];
  readonly #liveSink: MergeBoxSink;

  constructor(config: SessionConfig, transport: Transport, info: ClientInfo) {
    this.#config = config;
    this.#transport = transport;
    this.#liveSink = {
      added: (collection, id, fields) => this.#send({ msg: 'added', collection, id, fields: fields as Record<string, EJSONValue> }),
      changed: (collection, id, fields, cleared) => this.#sendChanged(collection, id, fields, cleared),
      removed: (collection, id) => this.#send({ msg: 'removed', collection, id }),
    };
    this.#box = new MergeBox(this.#liveSink, config.ejson);
    const session = this;
    this.connection = {
      get id() {
        return session.#sessionId;
      },
      get version() {
        return session.#version;
      },
      clientAddress: info.remoteAddress,
      httpHeaders: info.headers ?? {},
      onClose(callback) {
        if (session.#state === 'closed') callback();
        else session.#closeCallbacks.push(callback);
      },
      close() {
        void session.#transport.close();
      },
    };
  }

  get userId(): string | null {
    return this.#userId;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Serve the connection until it closes. */
  async run(): Promise<void> {
    try {
      for await (const message of this.#transport) this.#receive(message);
    } catch (error) {
      // A bug of ours must not leave the client connected to a session that no longer reads.
      this.#config.reportError(error, { connection: this.connection });
      this.#transport.abort(error instanceof Error ? error : undefined);
    } finally {
      this.#closed();
    }
  }

  /** Close the connection (server shutdown). */
  close(code?: number, reason?: string): Promise<unknown> {
    return this.#transport.close(code, reason);
  }

  box(): MergeBox {
    return this.#box;
  }

  sendReady(subscriptionId: string): void {
    if (this.#heldReady) this.#heldReady.push(subscriptionId);
    else this.#send({ msg: 'ready', subs: [subscriptionId] });
  }

  endSubscription(context: PublicationContext, error: unknown): void {
    if (error !== undefined && !(error instanceof DDPError)) this.reportError(error, context.name);
    context.deactivate('withdraw');
    const id = context.subscriptionId;
    if (id === undefined) {
      this.#universal = this.#universal.filter((item) => item !== context);
      return;
    }
    if (this.#subscriptions.get(id) === context) this.#subscriptions.delete(id);
    if (this.#state !== 'open') return;
    const errorObject = error === undefined ? undefined : clientErrorObject(error);
    this.#send(errorObject === undefined ? { msg: 'nosub', id } : { msg: 'nosub', id, error: errorObject });
  }

  reportError(error: unknown, publication: string | null): void {
    this.#config.reportError(error, { connection: this.connection, publication });
  }

  setUserId(userId: string | null): Promise<void> {
    if (userId === this.#userId || this.#state !== 'open') return this.#rerun;
    this.#userId = userId;
    // Re-runs queue up: each one publishes for the user current when it starts.
    this.#rerun = this.#rerun.then(() => this.#rerunSubscriptions());
    return this.#rerun;
  }

  #receive(raw: TransportMessage): void {
    if (this.#state === 'closed') return;
    this.#heartbeat?.traffic();
    let text: string;
    try {
      text = messageToText(raw);
    } catch {
      this.#sendError('Parse error: not UTF-8 text');
      return;
    }
    if (text.length > this.#config.maxMessageBytes) {
      this.#sendError(`Message too large: the limit is ${this.#config.maxMessageBytes} bytes`);
      void this.#transport.close(CLOSE_MESSAGE_TOO_BIG, 'message too large');
      return;
    }
    let message: ClientMessage;
    try {
      message = decodeClientMessage(text, this.#config.ejson);
    } catch (error) {
      const malformed = error instanceof MalformedMessageError ? error : new MalformedMessageError(String(error));
      this.#sendError(malformed.reason, malformed.offendingMessage);
      return;
    }
    this.#dispatch(message);
  }

  #dispatch(message: ClientMessage): void {
    if (this.#state === 'awaiting-connect') {
      if (message.msg === 'connect') this.#handshake(message);
      else this.#sendError('Must connect first', this.#offending(message));
      return;
    }
    switch (message.msg) {
      case 'connect':
        this.#sendError('Already connected', this.#offending(message));
        return;
      case 'ping':
        this.#send(message.id === undefined ? { msg: 'pong' } : { msg: 'pong', id: message.id });
        return;
      case 'pong':
        return;
      case 'sub':
      case 'unsub':
      case 'method':
        if (this.#queue.length >= this.#config.maxQueuedMessages) {
          this.#sendError(`Too many queued messages: the limit is ${this.#config.maxQueuedMessages}`);
          void this.#transport.close(CLOSE_POLICY_VIOLATION, 'too many queued messages');
          return;
        }
        this.#queue.push(message);
        void this.#pump();
        return;
    }
  }

  #handshake(message: ConnectMessage): void {
    const version = chooseVersion(message.support, this.#config.versions);
    if (message.version !== version || !this.#config.versions.includes(version)) {
      this.#send({ msg: 'failed', version });
      this.#state = 'closed';
      void this.#transport.close();
      return;
    }
    this.#version = version;
    this.#sessionId = randomId();
    this.#state = 'open';
    this.#send({ msg: 'connected', session: this.#sessionId });
    if (hasHeartbeats(version) && this.#config.heartbeatIntervalMs > 0) {
      this.#heartbeat = new HeartbeatPulse({
        intervalMs: this.#config.heartbeatIntervalMs,
        timeoutMs: this.#config.heartbeatTimeoutMs,
        sendPing: () => this.#send({ msg: 'ping' }),
        onTimeout: () => this.#transport.abort(new Error('heartbeat timeout')),
      });
      this.#heartbeat.start();
    }
    try {
      this.#config.onConnection(this.connection);
    } catch (error) {
      this.#config.reportError(error, { connection: this.connection });
    }
    for (const handler of this.#config.universalPublications) void this.#startPublication(handler, undefined, null, []);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined && this.#state === 'open'; next = this.#queue.shift()) {
        await this.#process(next);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Run one queued message; resolves when the next one may start. */
  #process(message: QueuedMessage): Promise<void> {
    switch (message.msg) {
      case 'sub':
        return this.#subscribe(message);
      case 'unsub': {
        const context = this.#subscriptions.get(message.id);
        if (context) this.endSubscription(context, undefined);
        else this.#send({ msg: 'nosub', id: message.id });
        return Promise.resolve();
      }
      case 'method':
        return this.#call(message);
    }
  }

  #subscribe(message: SubMessage): Promise<void> {
    if (this.#subscriptions.has(message.id)) {
      this.#sendError('Duplicate subscription id', this.#offending(message));
      return Promise.resolve();
    }
    const handler = this.#config.publications.get(message.name);
    const refusal = handler ? this.#subscriptionRefusal(message.name) : new DDPError(404, `Subscription '${message.name}' not found`).toErrorObject();
    if (refusal || !handler) {
      this.#send({ msg: 'nosub', id: message.id, ...(refusal ? { error: refusal } : {}) });
      return Promise.resolve();
    }
    return this.#startPublication(handler, message.id, message.name, message.params);
  }

  /** Why a subscription to an existing publication is refused: a rate limit or the subscription limit. */
  #subscriptionRefusal(name: string): DDPErrorObject | undefined {
    const limited = this.#rateLimit('subscription', name);
    if (limited) return limited;
    if (this.#subscriptions.size < this.#config.maxSubscriptions) return undefined;
    return new DDPError('too-many-subscriptions', `at most ${this.#config.maxSubscriptions} subscriptions per connection`).toErrorObject();
  }

  /** Start a publication; resolves once it returned (or called `unblock()`). */
  #startPublication(handler: PublishHandler, id: string | undefined, name: string | null, params: readonly EJSONValue[]): Promise<void> {
    const context = new PublicationContext(this, id, name, params);
    if (id === undefined) this.#universal.push(context);
    else this.#subscriptions.set(id, context);
    return new Promise<void>((resolve) => {
      context.setUnblock(resolve);
      const run = async (): Promise<void> => {
        try {
          const result = await (handler as (this: PublicationContext, ...args: readonly EJSONValue[]) => unknown).apply(
            context,
            params as EJSONValue[],
          );
          if (result !== undefined) await publishCursors(context, result);
        } catch (error) {
          context.error(error);
        }
      };
      void run().finally(() => context.unblock());
    });
  }

  /** Run a method; resolves once it returned (or called `unblock()`). */
  #call(message: MethodMessage): Promise<void> {
    return new Promise<void>((resolve) => {
      const fence = new WriteFence();
      const invocation = new MethodInvocation(this, message.method, message.randomSeed, fence, resolve);
      void this.#invoke(message, invocation, fence).finally(() => invocation.unblock());
    });
  }

  async #invoke(message: MethodMessage, invocation: MethodInvocation, fence: WriteFence): Promise<void> {
    const handler = this.#config.methods.get(message.method);
    let reply: ServerMessage;
    const refusal = handler ? this.#rateLimit('method', message.method) : undefined;
    if (!handler) {
      reply = { msg: 'result', id: message.id, error: new DDPError(404, `Method '${message.method}' not found`).toErrorObject() };
    } else if (refusal) {
      reply = { msg: 'result', id: message.id, error: refusal };
    } else {
      try {
        const result = await (handler as (this: MethodInvocation, ...args: readonly EJSONValue[]) => unknown).apply(invocation, message.params as EJSONValue[]);
        reply = result === undefined ? { msg: 'result', id: message.id } : { msg: 'result', id: message.id, result: result as EJSONValue };
      } catch (error) {
        if (!(error instanceof DDPError)) this.#config.reportError(error, { connection: this.connection, method: message.method });
        reply = { msg: 'result', id: message.id, error: clientErrorObject(error) };
      }
    }
    await invocation.settled();
    if (this.#state !== 'open') return;
    if (!this.#trySend(reply)) {
      this.#send({ msg: 'result', id: message.id, error: INTERNAL_ERROR });
    }
    fence.arm(() => this.#send({ msg: 'updated', methods: [message.id] }));
  }

  /**
   * After a login change: stop every subscription without touching the client, run them
   * again for the new user into a fresh merge box, then send only the differences.
   */
  async #rerunSubscriptions(): Promise<void> {
    const before = this.#box.snapshot();
    const silent: MergeBoxSink = { added() {}, changed() {}, removed() {} };
    const box = new MergeBox(silent, this.#config.ejson);
    this.#box = box;
    this.#heldReady = [];
    const named = [...this.#subscriptions.values()];
    const universal = this.#universal;
    this.#universal = [];
    for (const context of [...named, ...universal]) context.deactivate('discard');
    const starts: Promise<void>[] = [];
    for (const context of named) {
      const handler = this.#config.publications.get(context.name as string) as PublishHandler;
      starts.push(this.#startPublication(handler, context.subscriptionId, context.name, context.params));
    }
    for (const handler of this.#config.universalPublications) starts.push(this.#startPublication(handler, undefined, null, []));
    await Promise.all(starts);
    if (this.#state !== 'open') return;
    emitDifference(before, box.snapshot(), (a, b) => this.#config.ejson.equals(a, b), this.#liveSink);
    box.sink = this.#liveSink;
    const ready = this.#heldReady;
    this.#heldReady = undefined;
    if (ready.length > 0) this.#send({ msg: 'ready', subs: ready });
  }

  /** Count a method call or subscription against the rate limits; the refusal, if any. */
  #rateLimit(type: RateLimitType, name: string): DDPErrorObject | undefined {
    const input = { type, name, userId: this.#userId, connectionId: this.#sessionId, clientAddress: this.connection.clientAddress };
    return rateLimitRefusal(this.#config.rateLimiter, input, (error) =>
      this.#config.reportError(error, { connection: this.connection, ...(type === 'method' ? { method: name } : { publication: name }) }),
    );
  }

  #sendChanged(collection: string, id: string, fields: DocumentFields, cleared: string[]): void {
    const message: ServerMessage = { msg: 'changed', collection, id };
    if (Object.keys(fields).length > 0) message.fields = fields as Record<string, EJSONValue>;
    if (cleared.length > 0) message.cleared = cleared;
    this.#send(message);
  }

  #sendError(reason: string, offendingMessage?: unknown): void {
    this.#send(offendingMessage === undefined ? { msg: 'error', reason } : { msg: 'error', reason, offendingMessage });
  }

  /** A decoded message in plain JSON form, for `offendingMessage`. */
  #offending(message: ClientMessage): unknown {
    return this.#config.ejson.toJSONValue(message);
  }

  /** Send a message; `false` when its content cannot be carried as EJSON (reported). */
  #trySend(message: ServerMessage): boolean {
    try {
      this.#send(message);
      return true;
    } catch (error) {
      if (!(error instanceof EJSONError)) throw error;
      this.#config.reportError(error, { connection: this.connection });
      return false;
    }
  }

  #send(message: ServerMessage): void {
    if (this.#transport.state !== 'open') return;
    this.#transport.write(encodeServerMessage(message, this.#config.ejson));
    if (this.#transport.bufferedAmount > this.#config.maxBufferedBytes) {
      this.#transport.abort(new Error('the client is not reading: write buffer limit exceeded'));
    }
  }

  #closed(): void {
    if (this.#state === 'closed' && this.#abort.signal.aborted) return;
    this.#state = 'closed';
    this.#heartbeat?.stop();
    this.#abort.abort();
    this.#queue.length = 0;
    for (const context of [...this.#subscriptions.values(), ...this.#universal]) context.deactivate('discard');
    this.#subscriptions.clear();
    this.#universal = [];
    for (const callback of this.#closeCallbacks.splice(0)) {
      try {
        callback();
      } catch (error) {
        this.#config.reportError(error, { connection: this.connection });
      }
    }
  }
}
