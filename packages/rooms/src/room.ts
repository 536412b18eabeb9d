import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  ClosedError,
  Emitter,
  ProtocolError,
  type CloseInfo,
  type Transport,
  type TransportMessage,
} from '@rt/transport';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { BusMessage, BusSubscription, RoomBus } from './bus.js';
import type { MessageFilter, RoomEvents, RoomOptions } from './room-options.js';
import { CLOSE_TRY_AGAIN_LATER, closeReason } from './close-codes.js';
import { AwarenessOwnership } from './awareness-ownership.js';
import { StorageError } from './errors.js';
import {
  decodeAwarenessUpdate,
  decodeMessage,
  EMPTY_AWARENESS_MESSAGE,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeAwarenessUpdateMessage,
  encodeMessage,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  type RoomMessage,
} from './protocol.js';
import { RoomConnection, type ServeOptions } from './room-connection.js';
import { RoomDocument } from './room-document.js';
import { RoomPersistence } from './room-persistence.js';
import { unrefTimer } from './util.js';

/** Transaction origin of updates loaded from the store. */
const STORE_ORIGIN = Symbol('rooms:store');
/** Transaction origin of updates that came over the bus. */
const BUS_ORIGIN = Symbol('rooms:bus');
/** The origin y-protocols gives removals of states that were not renewed in time. */
const AWARENESS_TIMEOUT = 'timeout';

/** A handled message ended its connection: close it with this code and reason. */
class ConnectionFault extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One shared document and the clients editing it. Speaks the y-protocols sync,
 * awareness and auth messages; persists through a store and fans out through a bus.
 * Subclass it (and override `filter`) or pass `RoomOptions`.
 */
export class Room extends Emitter<RoomEvents> {
  /** The room's name (for WebSocket servers: the URL path). */
  readonly id: string;
  /** Presence of the connected clients (the server itself has no state). */
  readonly awareness: awarenessProtocol.Awareness;

  readonly #owners: AwarenessOwnership;
  readonly #document: RoomDocument;
  readonly #persistence: RoomPersistence | undefined;
  readonly #hibernateAfterMs: number;
  #lastUpdateAt = Date.now();
  readonly #bus: RoomBus | undefined;
  readonly #filter: MessageFilter | undefined;
  readonly #keepaliveMs: number;
  readonly #maxMessageSize: number;
  readonly #maxBufferedBytes: number;
  readonly #connections = new Set<RoomConnection>();
  readonly #serving = new Set<Promise<unknown>>();
  /** Document updates waiting to be broadcast together at the end of this I/O turn. */
  #outgoing: { update: Uint8Array; origin: unknown }[] = [];
  #subscription: BusSubscription | undefined;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(id: string, options: RoomOptions = {}) {
    super();
    this.id = id;
    this.#document = new RoomDocument(options.doc, (doc) => {
      this.#lastUpdateAt = Date.now();
      if (this.#running && !this.#closing) doc.on('update', this.#onDocUpdate);
      this.emit('wake');
    });
    // Awareness only needs a client id: a doc of its own keeps it independent of hibernation.
    this.awareness = new awarenessProtocol.Awareness(new Y.Doc());
    this.awareness.setLocalState(null);
    this.#owners = new AwarenessOwnership(this.awareness);
    this.#persistence =
      options.store &&
      new RoomPersistence(id, options.store, options.compactAfter ?? 500, (error) => this.emit('error', error, undefined));
    this.#bus = options.bus;
    this.#filter = options.filter;
    this.#keepaliveMs = options.keepaliveMs ?? 10_000;
    this.#hibernateAfterMs = this.#document.owned ? (options.hibernateAfterMs ?? 10_000) : 0;
    this.#maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  /** The shared document (wakes a hibernating room; do not keep it across idle periods). */
  get doc(): Y.Doc {
    return this.#document.wake();
  }

  /** True while the document is kept only in encoded form. */
  get hibernating(): boolean {
    return this.#document.hibernating;
  }

  /** The connected clients. */
  get clients(): ReadonlySet<RoomConnection> {
    return this.#connections;
  }

  /** The connection that owns awareness client id `clientId` (announced it first), if any. */
  awarenessOwner(clientId: number): RoomConnection | undefined {
    return this.#owners.ownerOf(clientId);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Load the document from the store and join the bus. Idempotent; `serve` calls it.
   * Rejects (with `StorageError` for a store failure) when the room cannot start.
   */
  run(): Promise<void> {
    this.#running ??= this.#start();
    return this.#running;
  }

  /**
   * Decide whether to handle `message` from `connection`. Override to drop or inspect
   * messages; the default defers to the `filter` option and otherwise accepts everything.
   * Throwing closes the connection with a protocol error.
   */
  filter(message: RoomMessage, connection: RoomConnection): boolean | Promise<boolean> {
    return this.#filter ? this.#filter(message, connection) : true;
  }

  /**
   * Serve one client over `channel` until it closes; resolves with how it closed. The room
   * starts with sync step 1 and the known awareness states, then answers the client.
   */
  serve(channel: Transport, options: ServeOptions = {}): Promise<CloseInfo> {
    const served = this.#serve(channel, options);
    this.#serving.add(served);
    void served.finally(() => this.#serving.delete(served));
    return served;
  }

  /** Resolve once every update received so far is durable in the store. */
  async flush(): Promise<void> {
    await this.#persistence?.flush();
  }

  /**
   * Close every client (1001 by default), leave the bus, compact and flush the store.
   * Resolves once the document is durable; rejects with `StorageError` if it is not.
   */
  close(code: number = CLOSE_GOING_AWAY, reason = 'room closed'): Promise<void> {
    this.#closing ??= this.#shutdown(code, reason);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    if (this.#closing) throw new ClosedError(`room ${this.id} is closed`);
    if (this.#persistence) await this.#load(this.#persistence);
    this.#document.wake().on('update', this.#onDocUpdate);
    this.awareness.on('update', this.#onAwarenessUpdate);
    if (this.#bus) {
      this.#subscription = await this.#bus.subscribe(this.id, this.#onBusMessage, this.#announce);
      this.#announce();
    }
    const periods = [this.#keepaliveMs, this.#hibernateAfterMs].filter((period) => period > 0);
    if (periods.length > 0) {
      this.#keepaliveTimer = setInterval(this.#maintain, Math.max(1, Math.floor(Math.min(...periods) / 2)));
      unrefTimer(this.#keepaliveTimer);
    }
  }

  async #load(persistence: RoomPersistence): Promise<void> {
    const updates = await persistence.load();
    const doc = this.#document.wake();
    try {
      Y.transact(doc, () => {
        for (const update of updates) Y.applyUpdate(doc, update, STORE_ORIGIN);
      }, STORE_ORIGIN);
    } catch (error) {
      throw new StorageError(`room ${this.id}: a stored update is not a Yjs update`, { cause: error });
    }
    persistence.compactIfDue(() => this.#document.snapshot());
  }

  async #serve(channel: Transport, options: ServeOptions): Promise<CloseInfo> {
    if (this.#closing) {
      return channel.close(CLOSE_GOING_AWAY, 'room closed');
    }
    try {
      await this.run();
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)), undefined);
      return channel.close(CLOSE_INTERNAL_ERROR, closeReason(`room failed to start: ${messageOf(error)}`));
    }
    if (this.#closing) return channel.close(CLOSE_GOING_AWAY, 'room closed');
    const connection = new RoomConnection(channel, options);
    this.#connections.add(connection);
    this.emit('join', connection);
    try {
      this.#send(connection, this.#syncStep1());
      if (this.awareness.getStates().size > 0) this.#send(connection, encodeAwareness(this.awareness));
      for await (const frame of channel) {
        try {
          await this.#handle(connection, frame);
        } catch (error) {
          this.#disconnect(connection, error);
          break;
        }
      }
    } finally {
      this.#connections.delete(connection);
      const owned = this.#owners.leave(connection);
      if (owned.length > 0) {
        awarenessProtocol.removeAwarenessStates(this.awareness, owned, connection);
        this.#offerReleased(owned);
      }
    }
    const info = await channel.closed;
    this.emit('leave', connection, info);
    return info;
  }

  async #handle(connection: RoomConnection, frame: TransportMessage): Promise<void> {
    if (typeof frame === 'string') {
      throw new ConnectionFault(CLOSE_PROTOCOL_ERROR, 'text frames are not part of the y-protocols wire format');
    }
    if (frame.length > this.#maxMessageSize) {
      throw new ConnectionFault(
        CLOSE_MESSAGE_TOO_BIG,
        `message of ${frame.length} bytes exceeds the limit of ${this.#maxMessageSize} bytes`,
      );
    }
    const message = decodeMessage(frame);
    const verdict = this.filter(message, connection);
    if (!(typeof verdict === 'boolean' ? verdict : await verdict)) return;
    switch (message.type) {
      case 'sync-step1': {
        const reply = this.#stateFor(message.stateVector);
        // The reply acknowledges everything this client sent before: only once it is durable.
        await this.#flushForAck();
        this.#send(connection, reply);
        return;
      }
      case 'sync-step2':
      case 'update':
        if (connection.readOnly) {
          this.#refuse(connection, message);
          return;
        }
        this.#applyClientUpdate(message.update, connection);
        return;
      case 'awareness':
        this.#applyClientAwareness(message.update, connection);
        return;
      case 'query-awareness':
        this.#send(connection, encodeAwareness(this.awareness));
        return;
      case 'permission-denied':
        throw new ProtocolError('clients do not send auth messages');
    }
  }

  /**
   * Sync step 1 for a new client. A plain method on purpose: a document held in a register
   * of a suspended async function would stay reachable after the room hibernates.
   */
  #syncStep1(): Uint8Array {
    const doc = this.#document.live;
    return doc ? encodeSyncStep1(doc) : encodeMessage({ type: 'sync-step1', stateVector: this.#document.stateVector() });
  }

  #stateFor(stateVector: Uint8Array): Uint8Array {
    try {
      const doc = this.#document.live;
      return doc ? encodeSyncStep2(doc, stateVector) : encodeMessage({ type: 'sync-step2', update: this.#document.missing(stateVector) });
    } catch (error) {
      throw new ProtocolError('sync step 1 carries a malformed state vector', { cause: error });
    }
  }

  async #flushForAck(): Promise<void> {
    try {
      await this.flush();
    } catch (error) {
      throw new ConnectionFault(CLOSE_INTERNAL_ERROR, 'storage failure: the update could not be saved', { cause: error });
    }
  }

  #applyClientUpdate(update: Uint8Array, connection: RoomConnection): void {
    // A handshake from a client with nothing new carries an empty update, or only the
    // deletions the document already has: no need to wake it.
    if (update.length === 2 && update[0] === 0 && update[1] === 0) return;
    if (this.#document.hibernatingWith(update)) return;
    try {
      Y.applyUpdate(this.#document.wake(), update, connection);
    } catch (error) {
      throw new ProtocolError('malformed Yjs update', { cause: error });
    }
  }

  /**
   * Apply the entries of an awareness update that are the sender's to make: entries for ids
   * another connection owns are refused (neither applied nor relayed).
   */
  #applyClientAwareness(update: Uint8Array, connection: RoomConnection): void {
    const entries = decodeAwarenessUpdate(update);
    const { accepted, refused, withdrawals } = this.#owners.judge(connection, entries);
    if (accepted.length > 0) {
      this.#owners.claim(connection, accepted);
      const applied = accepted.length === entries.length ? update : encodeAwarenessEntries(accepted);
      awarenessProtocol.applyAwarenessUpdate(this.awareness, applied, connection);
    }
    if (withdrawals.length > 0) this.#send(connection, encodeAwarenessUpdateMessage(encodeAwarenessEntries(withdrawals)));
    if (refused.length > 0) this.#refuse(connection, { type: 'awareness', update: encodeAwarenessEntries(refused) });
  }

  #refuse(connection: RoomConnection, message: RoomMessage): void {
    connection.refusedCount++;
    this.emit('refused', connection, message);
  }

  /** Tell the connections refused any of `clientIds` that the ids are free now. */
  #offerReleased(clientIds: readonly number[]): void {
    for (const [connection, withdrawal] of this.#owners.takeContenders(clientIds)) {
      if (this.#connections.has(connection)) {
        this.#send(connection, encodeAwarenessUpdateMessage(encodeAwarenessEntries([withdrawal])));
      }
    }
  }

  #disconnect(connection: RoomConnection, error: unknown): void {
    const fault =
      error instanceof ConnectionFault
        ? error
        : error instanceof ProtocolError
          ? new ConnectionFault(CLOSE_PROTOCOL_ERROR, error.message, { cause: error })
          : new ConnectionFault(CLOSE_INTERNAL_ERROR, `internal error: ${messageOf(error)}`, { cause: error });
    this.emit('error', fault, connection);
    void connection.channel.close(fault.closeCode, closeReason(fault.message));
  }

  #send(connection: RoomConnection, message: Uint8Array): void {
    const channel = connection.channel;
    if (channel.state !== 'open') return;
    try {
      channel.write(message);
    } catch {
      return;
    }
    connection.lastSentAt = Date.now();
    if (channel.bufferedAmount > this.#maxBufferedBytes) {
      this.emit('error', new Error(`client ${connection.id} reads too slowly`), connection);
      void channel.close(CLOSE_TRY_AGAIN_LATER, 'send buffer overflow: the client reads too slowly');
    }
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    this.#lastUpdateAt = Date.now();
    if (this.#connections.size > 0) {
      if (this.#outgoing.length === 0) scheduleSoon(this.#broadcastUpdates);
      this.#outgoing.push({ update, origin });
    }
    if (origin !== BUS_ORIGIN) this.#subscription?.publish({ kind: 'update', update });
    if (origin !== STORE_ORIGIN) this.#persistence?.append(update, () => this.#document.snapshot());
  };

  /**
   * Send the updates of one I/O turn. A lone update skips its sender; several are merged
   * into one message for everyone (a sender applying its own edit again is a no-op), which
   * saves a frame per update per client when many clients type at once.
   */
  readonly #broadcastUpdates = (): void => {
    const batch = this.#outgoing;
    this.#outgoing = [];
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const [{ update, origin }] = batch as [{ update: Uint8Array; origin: unknown }];
      const message = encodeUpdate(update);
      for (const connection of this.#connections) {
        if (connection !== origin) this.#send(connection, message);
      }
      return;
    }
    const message = encodeUpdate(Y.mergeUpdates(batch.map((entry) => entry.update)));
    for (const connection of this.#connections) this.#send(connection, message);
  };

  readonly #onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...change.added, ...change.updated, ...change.removed];
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
    const message = encodeAwarenessUpdateMessage(update);
    // Everyone hears it, the sender too: y-websocket clients count it as proof of life.
    for (const connection of this.#connections) this.#send(connection, message);
    if (origin !== BUS_ORIGIN) this.#subscription?.publish({ kind: 'awareness', update });
    // y-protocols drops a state not renewed for 30 s: its owner is gone or stuck, so the id
    // is released (a client back on a new connection can claim it before the old one closes).
    if (origin === AWARENESS_TIMEOUT && change.removed.length > 0) {
      this.#owners.release(change.removed);
      this.#offerReleased(change.removed);
    }
  };

  /** Tell the other nodes our state vector; they answer with what we lack and theirs. */
  readonly #announce = (): void => {
    if (this.#closing) return;
    this.#subscription?.publish({ kind: 'state-vector', stateVector: this.#document.stateVector(), join: true });
  };

  readonly #onBusMessage = (message: BusMessage): void => {
    if (this.#closing) return;
    try {
      switch (message.kind) {
        case 'update':
          Y.applyUpdate(this.#document.wake(), message.update, BUS_ORIGIN);
          return;
        case 'awareness':
          decodeAwarenessUpdate(message.update);
          awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, BUS_ORIGIN);
          return;
        case 'state-vector':
          this.#answerStateVector(message.stateVector, message.join);
          return;
      }
    } catch (error) {
      this.emit('error', new ProtocolError(`room ${this.id}: bad bus message: ${messageOf(error)}`, { cause: error }), undefined);
    }
  };

  #answerStateVector(stateVector: Uint8Array, join: boolean): void {
    const subscription = this.#subscription;
    if (!subscription) return;
    const missing = this.#document.missing(stateVector);
    // An update of two bytes holds no structs and no deletions.
    if (missing.length > 2) subscription.publish({ kind: 'update', update: missing });
    if (!join) return;
    subscription.publish({ kind: 'state-vector', stateVector: this.#document.stateVector(), join: false });
    const local = [...this.#connections].flatMap((connection) => [...connection.awarenessClients]);
    if (local.length > 0) {
      subscription.publish({ kind: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, local) });
    }
  }

  readonly #maintain = (): void => {
    const now = Date.now();
    if (this.#keepaliveMs > 0) {
      const quietSince = now - this.#keepaliveMs;
      for (const connection of this.#connections) {
        if (connection.lastSentAt <= quietSince) this.#send(connection, EMPTY_AWARENESS_MESSAGE);
      }
    }
    const idle = now - this.#lastUpdateAt >= this.#hibernateAfterMs;
    if (this.#hibernateAfterMs > 0 && idle && this.#document.live && this.#outgoing.length === 0) {
      this.#document.live.off('update', this.#onDocUpdate);
      if (this.#document.hibernate()) this.emit('hibernate');
    }
  };

  async #shutdown(code: number, reason: string): Promise<void> {
    const started = await this.#running?.then(
      () => true,
      () => false,
    );
    this.#broadcastUpdates();
    await Promise.all([...this.#connections].map((connection) => connection.channel.close(code, closeReason(reason))));
    await Promise.allSettled([...this.#serving]);
    if (this.#keepaliveTimer !== undefined) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    try {
      await this.#subscription?.unsubscribe();
    } catch (error) {
      this.emit('error', new Error(`room ${this.id}: leaving the bus failed: ${messageOf(error)}`, { cause: error }), undefined);
    }
    this.#document.live?.off('update', this.#onDocUpdate);
    this.awareness.off('update', this.#onAwarenessUpdate);
    try {
      if (started && this.#persistence?.hasAppends) this.#persistence.compact(this.#document.snapshot());
      await this.flush();
    } finally {
      await this.#persistence?.release();
      this.awareness.destroy();
      this.#document.destroy();
    }
  }
}

/** Run `task` after the current I/O turn (setImmediate in Node, a zero timeout in browsers). */
function scheduleSoon(task: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(task);
  else setTimeout(task, 0);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
