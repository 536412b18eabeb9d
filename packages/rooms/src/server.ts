import { CLOSE_GOING_AWAY, CLOSE_INTERNAL_ERROR, deferred, Emitter, type Transport } from '@rt/transport';
import type { RoomBus } from './bus.js';
import { CLOSE_PERMISSION_DENIED, closeReason } from './close-codes.js';
import { PermissionDeniedError } from './errors.js';
import { encodePermissionDenied } from './protocol.js';
import { Room } from './room.js';
import type { RoomOptions } from './room-options.js';
import type { RoomStore } from './store.js';
import type { IncomingChannel, Wire, WireListener } from './wire.js';

/** What `authenticate` is asked about one connection. */
export interface AuthRequest {
  /** The room the client wants. */
  readonly roomId: string;
  /** The client's credential (WebSocket: the `token` query parameter or a Bearer header). */
  readonly token: string | undefined;
  /** The peer's address, when known. */
  readonly remoteAddress: string | undefined;
  /** Wire-specific request details (WebSocket: the HTTP upgrade request). */
  readonly request: unknown;
}

/** Grants a connection, optionally read-only and with a context the room can see. */
export interface AuthGrant {
  /** Refuse document updates from this client. */
  readOnly?: boolean;
  /** Anything the room should know about this client (`RoomConnection.context`). */
  context?: unknown;
}

/**
 * Decides about each connection: `true` or a grant lets it in; `false` refuses it; a
 * thrown `PermissionDeniedError` refuses it with that reason.
 */
export type Authenticate = (request: AuthRequest) => boolean | AuthGrant | Promise<boolean | AuthGrant>;

/** Makes the room for an id; receives the options `bind` derived (store, bus, limits). */
export type RoomFactory<R extends Room = Room> = (id: string, options: RoomOptions) => R | Promise<R>;

/** Options for `bind`. */
export interface BindOptions<R extends Room = Room> {
  /** Make a room on first use. Default `new Room(id, options)`. */
  roomFactory?: RoomFactory<R>;
  /** Admit, refuse or restrict each connection. Default: everyone may write. */
  authenticate?: Authenticate;
  /** Persist rooms here. Default: nothing is persisted. */
  store?: RoomStore;
  /** Share rooms with other server nodes through this bus. */
  bus?: RoomBus;
  /** Keep an empty room loaded this long before unloading it (ms). Default 0. */
  unloadDelayMs?: number;
  /** Options given to every room (the store and bus above are added). */
  roomOptions?: Omit<RoomOptions, 'store' | 'bus' | 'doc'>;
  /** Called for server-side errors (bad input, store or bus failures). */
  onError?: (error: Error, roomId: string | undefined) => void;
}

/** Events of a `RoomServer`. */
export interface RoomServerEvents extends Record<string, unknown[]> {
  /** A room was created and loaded. */
  load: [Room];
  /** A room was flushed and unloaded. */
  unload: [Room];
  /** A connection was refused by `authenticate`. */
  denied: [AuthRequest, string];
  /** Something failed on the server side. */
  error: [Error, string | undefined];
}

interface RoomEntry<R extends Room> {
  readonly id: string;
  refs: number;
  room: R | undefined;
  ready: Promise<R>;
  unloadTimer: ReturnType<typeof setTimeout> | undefined;
  unloading: Promise<void> | undefined;
}

/**
 * A running room server: accepts channels from a wire, authenticates them, and serves
 * each in its room. Rooms load on first use and unload once empty and flushed.
 */
export class RoomServer<R extends Room = Room> extends Emitter<RoomServerEvents> {
  /** The wire this server listens on. */
  readonly wire: Wire;
  readonly #options: BindOptions<R>;
  readonly #entries = new Map<string, RoomEntry<R>>();
  readonly #pending = new Set<Promise<void>>();
  #listener: WireListener | undefined;
  #closing: Promise<void> | undefined;

  /** Use `bind()`. */
  constructor(wire: Wire, options: BindOptions<R>) {
    super();
    this.wire = wire;
    this.#options = options;
  }

  /** The bound port, for network wires. */
  get port(): number | undefined {
    return this.#listener?.port;
  }

  /** Where clients reach this server, when the wire has an address. */
  get url(): string | undefined {
    return this.#listener?.url;
  }

  /** The loaded rooms by id. */
  get rooms(): ReadonlyMap<string, R> {
    const loaded = new Map<string, R>();
    for (const [id, entry] of this.#entries) if (entry.room && !entry.unloading) loaded.set(id, entry.room);
    return loaded;
  }

  /** Start listening. Use `bind()`. */
  async listen(): Promise<void> {
    this.#listener = await this.wire.listen((incoming) => this.#track(this.#accept(incoming)));
  }

  /** Get a room, loading it if needed, and hold it loaded until `release`. */
  async acquire(roomId: string): Promise<R> {
    for (;;) {
      const entry = this.#entries.get(roomId);
      if (entry?.unloading) {
        await entry.unloading.catch(() => undefined);
        continue;
      }
      const current = entry ?? this.#create(roomId);
      current.refs++;
      if (current.unloadTimer !== undefined) clearTimeout(current.unloadTimer);
      current.unloadTimer = undefined;
      try {
        return await current.ready;
      } catch (error) {
        current.refs--;
        if (this.#entries.get(roomId) === current) this.#entries.delete(roomId);
        throw error;
      }
    }
  }

  /** Let go of a room taken with `acquire`; the last release schedules its unload. */
  release(roomId: string): void {
    const entry = this.#entries.get(roomId);
    if (!entry || entry.unloading) return;
    entry.refs--;
    if (entry.refs > 0 || this.#closing) return;
    const delayMs = this.#options.unloadDelayMs ?? 0;
    entry.unloadTimer = setTimeout(() => {
      entry.unloadTimer = undefined;
      if (entry.refs === 0) this.#unload(entry);
    }, delayMs);
  }

  /** Stop listening, close every client (1001) and unload every room after flushing it. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #create(roomId: string): RoomEntry<R> {
    const loaded = deferred<R>();
    const entry: RoomEntry<R> = {
      id: roomId,
      refs: 0,
      room: undefined,
      ready: loaded.promise,
      unloadTimer: undefined,
      unloading: undefined,
    };
    this.#entries.set(roomId, entry);
    this.#load(entry).then(loaded.resolve, loaded.reject);
    return entry;
  }

  async #load(entry: RoomEntry<R>): Promise<R> {
    const { roomFactory, store, bus, roomOptions } = this.#options;
    const options: RoomOptions = { ...roomOptions, store, bus };
    const room = roomFactory ? await roomFactory(entry.id, options) : (new Room(entry.id, options) as R);
    entry.room = room;
    room.on('error', (error) => this.#reportError(error, entry.id));
    try {
      await room.run();
    } catch (error) {
      await room.close().catch(() => undefined);
      throw error;
    }
    this.emit('load', room);
    return room;
  }

  #unload(entry: RoomEntry<R>): void {
    const room = entry.room;
    entry.unloading = (async () => {
      try {
        await room?.close();
      } catch (error) {
        this.#reportError(error instanceof Error ? error : new Error(String(error)), entry.id);
      } finally {
        if (this.#entries.get(entry.id) === entry) this.#entries.delete(entry.id);
        if (room) this.emit('unload', room);
      }
    })();
    this.#track(entry.unloading);
  }

  async #accept(incoming: IncomingChannel): Promise<void> {
    const { channel, roomId } = incoming;
    if (this.#closing) {
      await channel.close(CLOSE_GOING_AWAY, 'server shutting down');
      return;
    }
    const request: AuthRequest = {
      roomId,
      token: incoming.token,
      remoteAddress: incoming.remoteAddress,
      request: incoming.request,
    };
    const verdict = await this.#authenticate(request);
    if (typeof verdict === 'string') {
      this.emit('denied', request, verdict);
      await deny(channel, verdict);
      return;
    }
    if (this.#closing) {
      await channel.close(CLOSE_GOING_AWAY, 'server shutting down');
      return;
    }
    let room: R;
    try {
      room = await this.acquire(roomId);
    } catch (error) {
      this.#reportError(error instanceof Error ? error : new Error(String(error)), roomId);
      await channel.close(CLOSE_INTERNAL_ERROR, closeReason('the room could not be loaded'));
      return;
    }
    try {
      await room.serve(channel, {
        readOnly: verdict.readOnly ?? false,
        context: verdict.context,
        remoteAddress: incoming.remoteAddress,
      });
    } finally {
      this.release(roomId);
    }
  }

  /** The grant, or the reason for refusing. */
  async #authenticate(request: AuthRequest): Promise<AuthGrant | string> {
    const authenticate = this.#options.authenticate;
    if (!authenticate) return {};
    try {
      const verdict = await authenticate(request);
      if (verdict === true) return {};
      if (verdict === false) return 'permission denied';
      return verdict;
    } catch (error) {
      if (error instanceof PermissionDeniedError) return error.reason || 'permission denied';
      this.#reportError(error instanceof Error ? error : new Error(String(error)), request.roomId);
      return 'authentication failed';
    }
  }

  #reportError(error: Error, roomId: string | undefined): void {
    this.#options.onError?.(error, roomId);
    this.emit('error', error, roomId);
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) =>
      this.#reportError(error instanceof Error ? error : new Error(String(error)), undefined),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  async #shutdown(): Promise<void> {
    await this.#listener?.close();
    for (const entry of this.#entries.values()) {
      if (entry.unloadTimer !== undefined) clearTimeout(entry.unloadTimer);
      entry.unloadTimer = undefined;
    }
    const entries = [...this.#entries.values()];
    await Promise.allSettled(entries.map((entry) => entry.ready));
    for (const entry of entries) if (!entry.unloading) this.#unload(entry);
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#options.store?.close?.();
  }
}

/** Send PermissionDenied, then close with 4403 (y-websocket clients then stop reconnecting). */
async function deny(channel: Transport, reason: string): Promise<void> {
  try {
    channel.write(encodePermissionDenied(reason));
  } catch {
    return;
  }
  await channel.close(CLOSE_PERMISSION_DENIED, closeReason(reason));
}

/**
 * Serve rooms on `wire`: resolves a listening `RoomServer` (`port` is set for network
 * wires; port 0 picks a free one).
 */
export async function bind<R extends Room = Room>(wire: Wire, options: BindOptions<R> = {}): Promise<RoomServer<R>> {
  const server = new RoomServer<R>(wire, options);
  await server.listen();
  return server;
}
