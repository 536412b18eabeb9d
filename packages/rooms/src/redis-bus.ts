/**
 * `@rt/rooms/redis`: a room bus over Redis pub/sub (one channel per room), so clients on
 * several server processes editing one room converge. Needs the `ioredis` package.
 * @packageDocumentation
 */
import { waitFor } from '@rt/transport';
import { Redis, type RedisOptions } from 'ioredis';
import { createSubscriberId, decodeBusMessage, encodeBusMessage, type BusMessage, type BusSubscription, type RoomBus } from './bus.js';

/** Options for `redisBus()`. */
export interface RedisBusOptions {
  /** Redis URL (`redis://host:port/db`). Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Extra ioredis options for both connections. */
  redis?: RedisOptions;
  /** Channel name prefix; the room id follows. Default `rt-rooms:`. */
  prefix?: string;
  /** Called when publishing fails or a malformed message arrives. */
  onError?: (error: Error) => void;
  /** How long `subscribe` waits for Redis to be ready (ms). Default 10 000. */
  readyTimeoutMs?: number;
}

type Handler = (message: BusMessage) => void;

/**
 * A `RoomBus` over Redis pub/sub. One publishing and one subscribing connection serve
 * every room of the process; messages carry the sending subscription's id so nobody
 * hears itself.
 */
export class RedisBus implements RoomBus {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #channels = new Map<string, Map<string, Handler>>();
  readonly #resyncs = new Map<string, () => void>();
  #connectedOnce = false;
  readonly #ready: Promise<unknown>;

  constructor(options: RedisBusOptions = {}) {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    this.#publisher = new Redis(url, { ...options.redis });
    this.#subscriber = new Redis(url, { ...options.redis });
    this.#prefix = options.prefix ?? 'rt-rooms:';
    this.#onError = options.onError;
    const report = (error: Error): void => this.#onError?.(error);
    this.#publisher.on('error', report);
    this.#subscriber.on('error', report);
    this.#subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.#dispatch(channel.toString(), payload));
    // A connection must finish its handshake (ready check, client info) before SUBSCRIBE
    // puts it in subscriber mode, where those commands are refused.
    const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    this.#ready = Promise.all([this.#publisher, this.#subscriber].map((connection) => whenReady(connection, readyTimeoutMs)));
    this.#ready.catch(() => undefined);
    this.#subscriber.on('ready', () => {
      if (this.#connectedOnce) for (const resync of this.#resyncs.values()) resync();
      this.#connectedOnce = true;
    });
  }

  async subscribe(roomId: string, onMessage: Handler, onResync?: () => void): Promise<BusSubscription> {
    await this.#ready;
    const channel = this.#prefix + roomId;
    const id = createSubscriberId();
    if (onResync) this.#resyncs.set(id, onResync);
    let members = this.#channels.get(channel);
    const first = !members;
    if (!members) {
      members = new Map();
      this.#channels.set(channel, members);
    }
    members.set(id, onMessage);
    if (first) await this.#subscriber.subscribe(channel);
    return {
      publish: (message) => {
        this.#publisher.publish(channel, Buffer.from(encodeBusMessage(id, message))).catch((error: unknown) => {
          this.#onError?.(error instanceof Error ? error : new Error(String(error)));
        });
      },
      unsubscribe: async () => {
        this.#resyncs.delete(id);
        const current = this.#channels.get(channel);
        if (!current?.delete(id) || current.size > 0) return;
        this.#channels.delete(channel);
        await this.#subscriber.unsubscribe(channel);
      },
    };
  }

  /** Close both Redis connections. */
  async close(): Promise<void> {
    this.#channels.clear();
    this.#resyncs.clear();
    await Promise.allSettled([this.#subscriber.quit(), this.#publisher.quit()]);
  }

  #dispatch(channel: string, payload: Buffer): void {
    const members = this.#channels.get(channel);
    if (!members) return;
    let decoded: ReturnType<typeof decodeBusMessage>;
    try {
      decoded = decodeBusMessage(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    } catch (error) {
      this.#onError?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const [id, handler] of members) if (id !== decoded.sender) handler(decoded.message);
  }
}

function whenReady(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return waitFor(
    new Promise<void>((resolve) => connection.once('ready', () => resolve())),
    { timeoutMs, what: 'waiting for Redis' },
  );
}

/** Create a Redis room bus (see `RedisBus`). */
export function redisBus(options: RedisBusOptions = {}): RedisBus {
  return new RedisBus(options);
}
