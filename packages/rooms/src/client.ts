import {
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  ConnectionError,
  deferred,
  delay,
  Emitter,
  ReconnectPolicy,
  waitFor,
  type CloseInfo,
  type Deferred,
  type ReconnectPolicyOptions,
  type Transport,
  type WaitOptions,
} from '@rt/transport';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { decodeFrame, startIdleWatchdog, writeFrame } from './client-channel.js';
import type { ClientStatus, ConnectOptions, RoomClientEvents } from './client-options.js';
import { closeReason } from './close-codes.js';
import { PermissionDeniedError } from './errors.js';
import {
  decodeAwarenessUpdate,
  encodeAwareness,
  encodeAwarenessUpdateMessage,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  type RoomMessage,
} from './protocol.js';
import { asError } from './util.js';
import type { Wire } from './wire.js';

const DEFAULT_RECONNECT: ReconnectPolicyOptions = { initialDelayMs: 100, maxDelayMs: 5_000 };

/**
 * A Yjs document kept in sync with a room over a wire, with awareness, automatic
 * reconnection, and acknowledged flushes. Create with `connect()`.
 */
export class RoomClient extends Emitter<RoomClientEvents> {
  /** The room id. */
  readonly id: string;
  /** The synced document. */
  readonly doc: Y.Doc;
  /** The shared presence. */
  readonly awareness: awarenessProtocol.Awareness;
  /** The wire this client connects through. */
  readonly wire: Wire;
  /** Resolves at the first sync with the server; rejects if the client is refused or closed before. */
  readonly synced: Promise<void>;

  readonly #options: ConnectOptions;
  readonly #policy: ReconnectPolicy | undefined;
  readonly #ownsAwareness: boolean;
  readonly #autoUpdates: boolean;
  readonly #firstSync: Deferred<void> = deferred<void>();
  readonly #stop = new AbortController();
  #status: ClientStatus = 'connecting';
  #isSynced = false;
  #channel: Transport | undefined;
  #opened: Deferred<Transport> = deferred<Transport>();
  /** Our outstanding sync step 1 requests, answered in order; `apply` says what to do with the answer. */
  #acks: { done: Deferred<void>; apply: boolean }[] = [];
  #unsent: Uint8Array[] = [];
  #unapplied: Uint8Array[] = [];
  #lastReceivedAt = 0;
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #finalError: Error | undefined;

  /** Use `connect()`. */
  constructor(wire: Wire, options: ConnectOptions) {
    super();
    this.wire = wire;
    this.id = options.id;
    this.#options = options;
    this.doc = options.doc ?? new Y.Doc();
    this.#ownsAwareness = options.awareness === undefined;
    this.awareness = options.awareness ?? new awarenessProtocol.Awareness(this.doc);
    this.#autoUpdates = options.autoUpdates ?? true;
    const reconnect = options.reconnect ?? true;
    this.#policy =
      reconnect === false
        ? undefined
        : reconnect instanceof ReconnectPolicy
          ? reconnect
          : new ReconnectPolicy(reconnect === true ? DEFAULT_RECONNECT : { ...DEFAULT_RECONNECT, ...reconnect });
    this.synced = this.#firstSync.promise;
    // Nobody has to await `synced`; its rejection must not be reported as unhandled.
    this.synced.catch(() => undefined);
    this.#opened.promise.catch(() => undefined);
    this.doc.on('update', this.#onDocUpdate);
    this.awareness.on('update', this.#onAwarenessUpdate);
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** The current status. */
  get status(): ClientStatus {
    return this.#status;
  }

  /** True while the document is synced with the server over the current connection. */
  get isSynced(): boolean {
    return this.#isSynced;
  }

  /** Start connecting (idempotent). `connect()` calls it. */
  start(): void {
    if (this.#options.signal?.aborted) {
      void this.close();
      return;
    }
    this.#running ??= this.#run();
  }

  /**
   * Resolve once the server has everything this client sent so far (it answers a state
   * request only after storing what came before it). Waits for a connection if needed.
   */
  async flush(options: WaitOptions = {}): Promise<void> {
    const channel = await waitFor(this.#opened.promise, { ...options, what: 'waiting for a connection' });
    await waitFor(this.#requestState(channel), { ...options, what: 'flush' });
  }

  /** Send local edits made since the last push (manual mode) and wait for the server's acknowledgement. */
  async push(options: WaitOptions = {}): Promise<void> {
    const channel = await waitFor(this.#opened.promise, { ...options, what: 'waiting for a connection' });
    if (this.#unsent.length > 0) {
      const update = Y.mergeUpdates(this.#unsent);
      this.#unsent = [];
      writeFrame(channel, encodeUpdate(update));
    }
    await waitFor(this.#requestState(channel), { ...options, what: 'push' });
  }

  /** Apply remote edits received since the last pull (manual mode) and fetch anything missing. */
  async pull(options: WaitOptions = {}): Promise<void> {
    this.#applyUnapplied();
    const channel = await waitFor(this.#opened.promise, { ...options, what: 'waiting for a connection' });
    await waitFor(this.#requestState(channel, true), { ...options, what: 'pull' });
  }

  /** Drop the current connection and connect again at once (the token is evaluated again). */
  reconnect(): void {
    this.#channel?.abort(new ConnectionError('reconnect requested'));
  }

  /** Leave the room: withdraw local presence, close the connection and stop reconnecting. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      this.#setStatus('connecting');
      let channel: Transport;
      try {
        const token = await this.#evaluateToken();
        channel = await this.wire.open(this.id, {
          token,
          signal: this.#stop.signal,
          timeoutMs: this.#options.connectTimeoutMs ?? 10_000,
        });
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        const failure = asError(error);
        this.emit('error', failure);
        failures++;
        if (!(await this.#waitToRetry(failures, failure))) break;
        continue;
      }
      const outcome = await this.#session(channel);
      if (outcome.synced) failures = 0;
      if (outcome.denied !== undefined) {
        this.#finalError = new PermissionDeniedError(outcome.denied);
        this.#setStatus('denied');
        break;
      }
      if (this.#stop.signal.aborted) break;
      this.#setStatus('disconnected');
      failures++;
      const reason = new ConnectionError(`connection closed: ${outcome.info.code} ${outcome.info.reason}`.trim(), {
        closeCode: outcome.info.code,
        closeReason: outcome.info.reason,
      });
      if (!(await this.#waitToRetry(failures, reason))) break;
    }
    const finalError = this.#finalError ?? new ConnectionError('the client closed before it synced');
    this.#firstSync.reject(finalError);
    this.#opened.reject(finalError);
    if (this.#status !== 'denied') this.#setStatus('closed');
  }

  async #waitToRetry(failures: number, error: Error): Promise<boolean> {
    const policy = this.#policy;
    if (!policy || !policy.canRetry(failures)) {
      this.#finalError ??= error;
      return false;
    }
    try {
      await delay(policy.delayFor(failures), this.#stop.signal);
      return true;
    } catch {
      return false;
    }
  }

  async #evaluateToken(): Promise<string | undefined> {
    const token = this.#options.token;
    return typeof token === 'function' ? await token() : token;
  }

  async #session(channel: Transport): Promise<{ info: CloseInfo; synced: boolean; denied?: string }> {
    this.#channel = channel;
    this.#lastReceivedAt = Date.now();
    let denied: string | undefined;
    let synced = false;
    this.#setStatus('connected');
    this.#opened.resolve(channel);
    const watchdog = startIdleWatchdog(channel, this.#options.idleTimeoutMs ?? 30_000, () => this.#lastReceivedAt);
    this.#requestState(channel, true).then(
      () => {
        synced = true;
        this.#setSynced(true);
        this.#firstSync.resolve();
      },
      () => undefined,
    );
    if (this.awareness.getLocalState() !== null) writeFrame(channel, encodeAwareness(this.awareness, [this.doc.clientID]));
    try {
      for await (const frame of channel) {
        this.#lastReceivedAt = Date.now();
        try {
          const message = decodeFrame(frame);
          if (message.type === 'permission-denied') {
            denied = message.reason;
            this.emit('permission-denied', message.reason);
            continue;
          }
          this.#handle(channel, message);
        } catch (error) {
          this.emit('error', asError(error));
          void channel.close(CLOSE_PROTOCOL_ERROR, closeReason(asError(error).message));
          break;
        }
      }
    } finally {
      if (watchdog !== undefined) clearInterval(watchdog);
      this.#endSession(channel);
    }
    const info = await channel.closed;
    this.emit('disconnect', info);
    return denied === undefined ? { info, synced } : { info, synced, denied };
  }

  #handle(channel: Transport, message: Exclude<RoomMessage, { type: 'permission-denied' }>): void {
    switch (message.type) {
      case 'sync-step1':
        writeFrame(channel, encodeSyncStep2(this.doc, message.stateVector));
        return;
      case 'sync-step2':
        const ack = this.#acks.shift();
        // In manual mode only the handshake and pull() apply the answer; flush() and push() keep it for the next pull().
        if (this.#autoUpdates || ack?.apply !== false) Y.applyUpdate(this.doc, message.update, this);
        else this.#unapplied.push(message.update.slice());
        ack?.done.resolve();
        return;
      case 'update':
        if (this.#autoUpdates) Y.applyUpdate(this.doc, message.update, this);
        else this.#unapplied.push(message.update.slice());
        return;
      case 'awareness':
        decodeAwarenessUpdate(message.update);
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, this);
        return;
      case 'query-awareness':
        writeFrame(channel, encodeAwareness(this.awareness));
        return;
    }
  }

  #endSession(channel: Transport): void {
    if (this.#channel === channel) this.#channel = undefined;
    this.#opened = deferred<Transport>();
    this.#opened.promise.catch(() => undefined);
    const lost = new ConnectionError('the connection closed before the server answered');
    for (const ack of this.#acks.splice(0)) ack.done.reject(lost);
    this.#setSynced(false);
    const remote = [...this.awareness.getStates().keys()].filter((client) => client !== this.doc.clientID);
    if (remote.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, remote, this);
  }

  /** Send sync step 1; the matching step 2 settles the returned promise. */
  #requestState(channel: Transport, apply = false): Promise<void> {
    if (channel.state !== 'open') return Promise.reject(new ConnectionError('the connection is closed'));
    const done = deferred<void>();
    this.#acks.push({ done, apply });
    writeFrame(channel, encodeSyncStep1(this.doc));
    return done.promise;
  }

  #applyUnapplied(): void {
    if (this.#unapplied.length === 0) return;
    const update = Y.mergeUpdates(this.#unapplied);
    this.#unapplied = [];
    Y.applyUpdate(this.doc, update, this);
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this) return;
    if (!this.#autoUpdates) {
      this.#unsent.push(update);
      return;
    }
    // While disconnected, the next handshake carries these edits.
    if (this.#channel) writeFrame(this.#channel, encodeUpdate(update));
  };

  readonly #onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (!this.#channel) return;
    if (origin === this) {
      // The server withdrew our own state (it holds an older clock for it, e.g. after a
      // reconnect): y-protocols kept the state and raised its clock; announce it again.
      const own = this.awareness.clientID;
      if (change.removed.includes(own) && this.awareness.getLocalState() !== null) {
        writeFrame(this.#channel, encodeAwareness(this.awareness, [own]));
      }
      return;
    }
    const changed = [...change.added, ...change.updated, ...change.removed];
    writeFrame(this.#channel, encodeAwareness(this.awareness, changed));
  };

  #setStatus(status: ClientStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }

  #setSynced(synced: boolean): void {
    if (this.#isSynced === synced) return;
    this.#isSynced = synced;
    this.emit('synced', synced);
  }

  async #shutdown(): Promise<void> {
    this.#stop.abort();
    const channel = this.#channel;
    if (channel && this.awareness.getLocalState() !== null) {
      // Withdraw our presence explicitly so peers see it go at once.
      const gone = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID], new Map());
      writeFrame(channel, encodeAwarenessUpdateMessage(gone));
    }
    await channel?.close(CLOSE_NORMAL, 'client closed');
    await this.#running;
    this.doc.off('update', this.#onDocUpdate);
    this.awareness.off('update', this.#onAwarenessUpdate);
    if (this.#ownsAwareness) this.awareness.destroy();
    this.#firstSync.reject(new ConnectionError('the client closed before it synced'));
    this.#opened.reject(new ConnectionError('the client is closed'));
    this.#setStatus('closed');
  }
}

/**
 * Join room `options.id` over `wire`. Resolves the client at once; await `client.synced`
 * for the first sync, and watch `status` events for connection changes.
 */
export async function connect(wire: Wire, options: ConnectOptions): Promise<RoomClient> {
  const client = new RoomClient(wire, options);
  client.start();
  return client;
}
