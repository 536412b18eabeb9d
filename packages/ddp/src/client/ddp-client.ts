import { ConnectionError, Emitter, deferred, type CloseInfo, type Deferred } from '@rt/transport';
import { ejson as defaultEJSON, type EJSON, type EJSONValue } from '../ejson.js';
import { DDPError } from '../errors.js';
import { encodeClientMessage } from '../message-codec.js';
import type { ClientMessage } from '../messages.js';
import { randomId } from '../random-id.js';
import { SUPPORTED_VERSIONS } from '../versions.js';
import type { Collection, DDPDocument } from './collection.js';
import { ConnectionLoop } from './connection-loop.js';
import type { SessionMessage } from './connection-session.js';
import type { ConnectionStatus } from './connection-status.js';
import { DocumentStore } from './document-store.js';
import { methodPromise, MethodQueue, PendingMethod, type ApplyOptions, type MethodPromise } from './method-queue.js';
import { MethodStubs, type MethodStub } from './method-stubs.js';
import { normaliseUrl, resolveRetryPolicy, type DDPClientOptions } from './options.js';
import { parseLoginAnswer, passwordLogin, type LoginResult, type UserSelector } from './login.js';
import { Subscription, type SubscriptionHost } from './subscription.js';

/** Events of a `DDPClient`. */
export interface DDPClientEvents extends Record<string, unknown[]> {
  /** Every status change. */
  status: [ConnectionStatus];
  /** A DDP session opened (first connection or reconnect). */
  connected: [session: string];
  /** The connection ended (a reconnect may follow). */
  disconnected: [CloseInfo];
  /** A problem that does not stop the client: malformed or unexpected server messages, server `error` replies, failed resume logins. */
  error: [Error];
  /** The client logged in (also after a resume login on reconnect). */
  login: [userId: string];
  /** The client logged out (or its resume token was refused). */
  logout: [];
}

/**
 * A DDP client in the shape of ddp_asyncio's `DDPClient`, with Meteor's behaviour:
 * version negotiation, heartbeats, reconnects with backoff, methods resent (or failed when
 * `noRetry`) after a reconnect, subscriptions restored with the same ids and collections
 * reconciled without wiping them.
 */
export class DDPClient extends Emitter<DDPClientEvents> implements SubscriptionHost {
  /** The WebSocket URL (`http(s)://` URLs are turned into `ws(s)://.../websocket`). */
  readonly url: string;
  readonly #versions: readonly string[];
  readonly #ejson: EJSON;
  readonly #store: DocumentStore;
  readonly #methods: MethodQueue;
  readonly #stubs: MethodStubs;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #stopping = new Map<string, Deferred<void>>();
  #status: ConnectionStatus = { status: 'offline', connected: false, retryCount: 0 };
  readonly #connection: ConnectionLoop;
  #lastSessionId: string | undefined;
  #version: string | undefined;
  #loop: Promise<void> | undefined;
  #stop: AbortController | undefined;
  /** `connect()` calls waiting for the next open session. */
  #connectWaiters: Deferred<void>[] = [];
  #disconnection: Deferred<CloseInfo> | undefined;
  #userId: string | null = null;
  #token: string | undefined;
  /** Subscriptions the server must confirm again before the re-sync can finish. */
  #reviving: Set<string> | undefined;
  /** Notifications held back until the re-sync has put the data in place. */
  #afterResync: (() => void)[] = [];
  #started = false;

  constructor(url: string, options: DDPClientOptions = {}) {
    super();
    this.url = normaliseUrl(url);
    this.#versions = [...(options.versions ?? SUPPORTED_VERSIONS)];
    if (this.#versions.length === 0) throw new RangeError('a DDP client needs at least one version');
    this.#ejson = options.ejson ?? defaultEJSON;
    this.#store = new DocumentStore({
      equals: (a, b) => this.#ejson.equals(a, b),
      reportError: (error) => this.emit('error', error),
    });
    this.#methods = new MethodQueue({
      send: (method) => this.#connection.session?.sendEncoded(method.encoded) ?? false,
      // `updated` resolves once every document stubs wrote shows the server's version.
      done: (method) => {
        this.#store.stubs.release(method.id);
        this.#store.stubs.whenFlushed(() => method.markUpdated(), (error) => method.failUpdated(error));
      },
      failed: (method) => this.#store.stubs.release(method.id),
    });
    this.#stubs = new MethodStubs({ ejson: this.#ejson, stubs: this.#store.stubs, collection: (name) => this.#store.collection(name) });
    this.#connection = new ConnectionLoop(
      { url: this.url, versions: this.#versions, ejson: this.#ejson, retry: resolveRetryPolicy(options.reconnect), client: options },
      {
        setStatus: (status) => this.#setStatus(status),
        previousSession: () => this.#lastSessionId,
        onConnected: (sessionId, version) => this.#onConnected(sessionId, version),
        onMessage: (message) => this.#onMessage(message),
        onError: (error) => this.emit('error', error),
        onClosed: (info, wasOpen) => this.#onClosed(info, wasOpen),
        onOffline: (reason, status) => this.#goOffline(reason, status),
      },
    );
  }

  /** The connection status. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Whether a DDP session is open. */
  get isConnected(): boolean {
    return this.#status.connected;
  }

  /** The current (or last) DDP session id. */
  get sessionId(): string | undefined {
    return this.#lastSessionId;
  }

  /** The negotiated DDP version, once connected. */
  get version(): string | undefined {
    return this.#version;
  }

  /** The logged-in user, or `null`. */
  get userId(): string | null {
    return this.#userId;
  }

  /**
   * Connect and open a DDP session. Rejects with `ConnectionError` when the server cannot
   * be reached, `VersionMismatchError` when no DDP version can be agreed. Later losses are
   * handled by reconnecting (unless `reconnect: false`).
   */
  connect(): Promise<void> {
    if (this.#status.connected) return Promise.resolve();
    const waiter = deferred<void>();
    this.#connectWaiters.push(waiter);
    if (!this.#loop) {
      this.#started = true;
      this.#stop = new AbortController();
      this.#loop = this.#connection.run(this.#stop.signal);
    }
    return waiter.promise;
  }

  /** Close the connection and stop reconnecting. Pending calls fail with `ConnectionError`. */
  async disconnect(): Promise<void> {
    this.#stop?.abort();
    await this.#connection.session?.close();
    await this.#loop;
    this.#goOffline(new ConnectionError('the client disconnected'), 'offline');
  }

  /** Meteor's `reconnect()`: while waiting to retry, try now. Does nothing otherwise. */
  reconnect(): void {
    if (this.#status.status === 'waiting') this.#connection.retryNow();
  }

  /** Resolves when the current connection ends (at once when there is none). */
  disconnection(): Promise<CloseInfo> {
    if (!this.#connection.session) return Promise.resolve({ code: 1000, reason: 'not connected', wasClean: true });
    this.#disconnection ??= deferred();
    return this.#disconnection.promise;
  }

  /** The client-side collection called `name` (created empty on first use). */
  getCollection<T extends DDPDocument = DDPDocument>(name: string): Collection<T> {
    return this.#store.collection<T>(name);
  }

  /**
   * Subscribe to a publication. The subscription is sent now (or as soon as the client is
   * connected) and restored after every reconnect until stopped.
   */
  subscribe(name: string, ...params: unknown[]): Subscription {
    const subscription = new Subscription(this, randomId(), name, params as EJSONValue[]);
    // Refuse parameters EJSON cannot carry now, not at some later (re)send.
    encodeClientMessage(this.#subMessage(subscription), this.#ejson);
    this.#subscriptions.set(subscription.id, subscription);
    this.#write(this.#subMessage(subscription));
    return subscription;
  }

  /** Call a method with positional parameters; see `apply`. */
  call<T = unknown>(method: string, ...params: unknown[]): MethodPromise<T> {
    return this.apply<T>(method, params);
  }

  /**
   * Register method stubs (Meteor's client-side `Meteor.methods`). A call to a method with a
   * stub runs the stub first, synchronously, as a simulation that may write the client
   * collections through `this.collection(name)`; the writes show at once and give way to
   * the server's data once the call is done.
   */
  methods(stubs: Readonly<Record<string, MethodStub>>): void {
    this.#stubs.define(stubs);
  }

  /**
   * Call a method. The promise resolves with its result or rejects with the server's
   * `DDPError`; its `updated` resolves once the method's writes are in the collections.
   * Called from inside a stub, only the called method's stub runs (nothing is sent).
   */
  apply<T = unknown>(method: string, params: readonly unknown[] = [], options: ApplyOptions = {}): MethodPromise<T> {
    const pending = new PendingMethod(randomId(), method, params as EJSONValue[], options);
    if (this.#stubs.simulating) return this.#stubs.runNested<T>(pending);
    return this.#apply<T>(pending, options);
  }

  /** Log in with Meteor's password login (the password travels as a SHA-256 digest). */
  async loginWithPassword(user: UserSelector, password: string): Promise<LoginResult> {
    return this.#login(await passwordLogin(user, password));
  }

  /** Log in with a resume token from an earlier login. */
  loginWithToken(token: string): Promise<LoginResult> {
    return this.#login({ resume: token });
  }

  /** Log out; the resume token is forgotten. */
  async logout(): Promise<void> {
    await this.apply('logout', [], { wait: true });
    this.#setUser(null, undefined);
  }

  /** `await using client = new DDPClient(...)` disconnects at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  /** Called by `Subscription.stop()`. @internal */
  unsubscribe(subscription: Subscription): Promise<void> {
    this.#subscriptions.delete(subscription.id);
    if (this.#reviving?.delete(subscription.id)) this.#checkResync();
    if (!this.#write({ msg: 'unsub', id: subscription.id })) return Promise.resolve();
    const done = deferred<void>();
    this.#stopping.set(subscription.id, done);
    return done.promise;
  }

  async #login(argument: Record<string, unknown>): Promise<LoginResult> {
    const answer = await this.apply('login', [argument], { wait: true });
    return this.#acceptLogin(answer);
  }

  #acceptLogin(answer: unknown): LoginResult {
    const result = parseLoginAnswer(answer);
    this.#setUser(result.userId, result.token);
    return result;
  }

  #setUser(userId: string | null, token: string | undefined): void {
    const changed = userId !== this.#userId;
    this.#userId = userId;
    this.#token = token;
    if (!changed) return;
    if (userId === null) this.emit('logout');
    else this.emit('login', userId);
  }

  #apply<T>(pending: PendingMethod, options: ApplyOptions, atFront = false): MethodPromise<T> {
    const promise = methodPromise<T>(pending);
    let refusal: unknown;
    try {
      pending.encoded = encodeClientMessage(
        { msg: 'method', id: pending.id, method: pending.method, params: pending.params as EJSONValue[] },
        this.#ejson,
      );
    } catch (error) {
      refusal = error;
    }
    if (refusal === undefined && this.#started && !this.#loop) refusal = new ConnectionError(`not connected: cannot call '${pending.method}'`);
    if (refusal === undefined && !atFront) {
      refusal = this.#stubs.runFor(pending, options, promise, this.#userId, (error) => this.emit('error', error));
    }
    if (refusal === undefined) {
      this.#methods.add(pending, options, atFront);
    } else {
      pending.result.reject(refusal);
      pending.failUpdated(refusal);
    }
    return promise;
  }

  #onConnected(sessionId: string, version: string): void {
    // A server that resumed our session still has our subscriptions; Meteor never does.
    const resumed = this.#lastSessionId === sessionId;
    const reconnecting = this.#lastSessionId !== undefined && !resumed;
    this.#lastSessionId = sessionId;
    this.#version = version;
    this.#setStatus({ status: 'connected', connected: true, retryCount: 0 });
    if (!reconnecting) this.#store.stubs.serverViewKnown();
    if (reconnecting) {
      this.#store.beginResync();
      this.#reviving = new Set(this.#subscriptions.keys());
      if (this.#token !== undefined) this.#resumeLogin(this.#token);
    }
    if (!resumed) for (const subscription of this.#subscriptions.values()) this.#write(this.#subMessage(subscription));
    this.#methods.flush();
    for (const waiter of this.#connectWaiters.splice(0)) waiter.resolve();
    this.emit('connected', sessionId);
    this.#checkResync();
  }

  /** Log in again with the resume token, ahead of every other call. */
  #resumeLogin(token: string): void {
    const pending = new PendingMethod(randomId(), 'login', [{ resume: token }], { wait: true, blocksResync: true });
    this.#apply(pending, {}, true).then(
      (answer) => this.#acceptLogin(answer),
      (error: unknown) => {
        if (error instanceof DDPError) {
          this.#setUser(null, undefined);
          this.emit('error', error);
        }
      },
    );
  }

  #onMessage(message: SessionMessage): void {
    switch (message.msg) {
      case 'added':
      case 'changed':
      case 'removed':
        this.#store.apply(message);
        return;
      case 'addedBefore':
        this.#store.apply({ msg: 'added', collection: message.collection, id: message.id, ...(message.fields ? { fields: message.fields } : {}) });
        return;
      case 'movedBefore':
        return;
      case 'ready':
        for (const id of message.subs) {
          const subscription = this.#subscriptions.get(id);
          if (!subscription) continue;
          this.#reviving?.delete(id);
          this.#afterData(() => subscription.markReady());
        }
        this.#checkResync();
        return;
      case 'nosub': {
        const stopping = this.#stopping.get(message.id);
        if (stopping) {
          this.#stopping.delete(message.id);
          stopping.resolve();
          return;
        }
        const subscription = this.#subscriptions.get(message.id);
        if (!subscription) return;
        this.#subscriptions.delete(message.id);
        this.#reviving?.delete(message.id);
        subscription.markEnded(message.error);
        this.#checkResync();
        return;
      }
      case 'result':
        if (!this.#methods.onResult(message.id, message.error, message.result)) {
          this.emit('error', new Error(`server sent a result for unknown method call '${message.id}'`));
        }
        this.#checkResync();
        return;
      case 'updated':
        for (const id of message.methods) {
          if (this.#store.resyncing) this.#afterResync.push(() => this.#methods.onUpdated(id));
          else this.#methods.onUpdated(id);
        }
        return;
    }
  }

  /** Run `notify` now, or after the re-sync when data is being buffered. */
  #afterData(notify: () => void): void {
    if (this.#store.resyncing) this.#afterResync.push(notify);
    else notify();
  }

  #checkResync(): void {
    if (!this.#store.resyncing) return;
    if ((this.#reviving?.size ?? 0) > 0 || this.#methods.blockingResync) return;
    this.#reviving = undefined;
    this.#store.endResync();
    this.#methods.resyncDone();
    for (const notify of this.#afterResync.splice(0)) notify();
  }

  #onClosed(info: CloseInfo, wasOpen: boolean): void {
    if (wasOpen) {
      this.#store.abandonResync();
      this.#store.stubs.connectionLost();
      this.#reviving = undefined;
      this.#afterResync = [];
      this.#methods.connectionLost();
      for (const stopping of this.#stopping.values()) stopping.resolve();
      this.#stopping.clear();
    }
    this.#disconnection?.resolve(info);
    this.#disconnection = undefined;
    if (wasOpen) this.emit('disconnected', info);
  }

  #goOffline(reason: Error, status: 'offline' | 'failed'): void {
    this.#loop = undefined;
    for (const waiter of this.#connectWaiters.splice(0)) waiter.reject(reason);
    for (const subscription of this.#subscriptions.values()) subscription.failWaiters(reason);
    this.#methods.failAll(reason);
    this.#store.stubs.abandonWaiters(reason);
    for (const stopping of this.#stopping.values()) stopping.resolve();
    this.#stopping.clear();
    if (this.#status.status !== status || this.#status.reason !== reason) {
      this.#setStatus({ status, connected: false, retryCount: this.#status.retryCount, reason });
    }
  }

  #subMessage(subscription: Subscription): ClientMessage {
    return { msg: 'sub', id: subscription.id, name: subscription.name, params: subscription.params as EJSONValue[] };
  }

  /** Send a message on the open session; `false` when there is none. */
  #write(message: ClientMessage): boolean {
    return this.#connection.session?.send(message) ?? false;
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = status;
    this.emit('status', status);
  }
}
