import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  ClosedError,
  Emitter,
  type CloseInfo,
  type Transport,
} from '@rt/transport';
import type * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { AwarenessRelay } from './awareness-relay.js';
import { closeReason } from './close-codes.js';
import { asConnectionFault } from './connection-fault.js';
import { StorageError } from './errors.js';
import type { RoomMessage } from './protocol.js';
import { RoomBusLink } from './room-bus-link.js';
import { RoomClients } from './room-clients.js';
import { RoomConnection, type ServeOptions } from './room-connection.js';
import { RoomDispatch } from './room-dispatch.js';
import { RoomDocument } from './room-document.js';
import type { MessageFilter, RoomEvents, RoomOptions } from './room-options.js';
import { RoomPersistence } from './room-persistence.js';
import { UpdateBroadcast } from './update-broadcast.js';
import { messageOf, unrefTimer } from './util.js';

/** Transaction origin of updates loaded from the store. */
const STORE_ORIGIN = Symbol('rooms:store');

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

  readonly #document: RoomDocument;
  readonly #clients: RoomClients;
  readonly #updates: UpdateBroadcast;
  readonly #presence: AwarenessRelay;
  readonly #dispatch: RoomDispatch;
  readonly #persistence: RoomPersistence | undefined;
  readonly #bus: RoomBusLink | undefined;
  readonly #filter: MessageFilter | undefined;
  readonly #keepaliveMs: number;
  readonly #hibernateAfterMs: number;
  #lastUpdateAt = Date.now();
  readonly #serving = new Set<Promise<unknown>>();
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
    this.#clients = new RoomClients(options.maxBufferedBytes ?? 16 * 1024 * 1024, (error, connection) =>
      this.emit('error', error, connection),
    );
    this.#updates = new UpdateBroadcast(this.#clients);
    this.#presence = new AwarenessRelay({
      clients: this.#clients,
      publish: (update, origin) => this.#bus?.publishAwareness(update, origin),
      refuse: (connection, message) => this.#refuse(connection, message),
    });
    this.awareness = this.#presence.awareness;
    this.#dispatch = new RoomDispatch({
      document: this.#document,
      clients: this.#clients,
      presence: this.#presence,
      maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024,
      filter: (message, connection) => this.filter(message, connection),
      flush: () => this.flush(),
      refuse: (connection, message) => this.#refuse(connection, message),
    });
    this.#persistence =
      options.store &&
      new RoomPersistence(id, options.store, options.compactAfter ?? 500, (error) => this.emit('error', error, undefined));
    this.#bus =
      options.bus &&
      new RoomBusLink(options.bus, {
        roomId: id,
        document: this.#document,
        awareness: this.awareness,
        localClientIds: () => this.#clients.awarenessClientIds(),
        closing: () => this.#closing !== undefined,
        onError: (error) => this.emit('error', error, undefined),
      });
    this.#filter = options.filter;
    this.#keepaliveMs = options.keepaliveMs ?? 10_000;
    this.#hibernateAfterMs = this.#document.owned ? (options.hibernateAfterMs ?? 10_000) : 0;
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
    return this.#clients.connections;
  }

  /** The connection that owns awareness client id `clientId` (announced it first), if any. */
  awarenessOwner(clientId: number): RoomConnection | undefined {
    return this.#presence.ownerOf(clientId);
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
    this.#presence.listen();
    if (this.#bus) await this.#bus.join();
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
    this.#clients.connections.add(connection);
    this.emit('join', connection);
    try {
      this.#dispatch.greet(connection);
      for await (const frame of channel) {
        try {
          await this.#dispatch.handle(connection, frame);
        } catch (error) {
          this.#disconnect(connection, error);
          break;
        }
      }
    } finally {
      this.#clients.connections.delete(connection);
      this.#presence.leave(connection);
    }
    const info = await channel.closed;
    this.emit('leave', connection, info);
    return info;
  }

  #refuse(connection: RoomConnection, message: RoomMessage): void {
    connection.refusedCount++;
    this.emit('refused', connection, message);
  }

  #disconnect(connection: RoomConnection, error: unknown): void {
    const fault = asConnectionFault(error);
    this.emit('error', fault, connection);
    void connection.channel.close(fault.closeCode, closeReason(fault.message));
  }

  readonly #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    this.#lastUpdateAt = Date.now();
    this.#updates.queue(update, origin);
    this.#bus?.publishUpdate(update, origin);
    if (origin !== STORE_ORIGIN) this.#persistence?.append(update, () => this.#document.snapshot());
  };

  /** Keep quiet clients alive and let an idle document hibernate. */
  readonly #maintain = (): void => {
    const now = Date.now();
    if (this.#keepaliveMs > 0) this.#clients.keepalive(now - this.#keepaliveMs);
    const idle = now - this.#lastUpdateAt >= this.#hibernateAfterMs;
    if (this.#hibernateAfterMs > 0 && idle && this.#document.live && !this.#updates.pending) {
      this.#document.live.off('update', this.#onDocUpdate);
      if (this.#document.hibernate()) this.emit('hibernate');
    }
  };

  async #shutdown(code: number, reason: string): Promise<void> {
    const started = await this.#running?.then(
      () => true,
      () => false,
    );
    this.#updates.flush();
    const connections = [...this.#clients.connections];
    await Promise.all(connections.map((connection) => connection.channel.close(code, closeReason(reason))));
    await Promise.allSettled([...this.#serving]);
    if (this.#keepaliveTimer !== undefined) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    await this.#bus?.leave();
    this.#document.live?.off('update', this.#onDocUpdate);
    this.#presence.unlisten();
    try {
      if (started && this.#persistence?.hasAppends) this.#persistence.compact(this.#document.snapshot());
      await this.flush();
    } finally {
      await this.#persistence?.release();
      this.#presence.destroy();
      this.#document.destroy();
    }
  }
}
