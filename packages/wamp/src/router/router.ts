import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { CLOSE_PROTOCOL_ERROR, listenWebSocket, type Listener, type Transport, type WebSocketCompression } from '@rt/transport';

import { serializerForSubprotocol, serializers, type Serializer, type SerializerName } from '../serializer.js';
import { acceptRawSocket } from '../rawsocket/socket.js';
import type { Authenticator } from './authenticators.js';
import { Realm, type RealmOptions } from './realm.js';
import { RouterSession, type RouterContext } from './router-session.js';
import type { Authorizer } from './session-info.js';

/** Options for `new Router()`. */
export interface RouterOptions {
  /** The realms this router serves. */
  realms: string[];
  /**
   * Authentication: a list of authenticators for every realm, or one list per realm. Without
   * it every listed realm accepts anonymous sessions.
   */
  auth?: Authenticator[] | Record<string, Authenticator[]>;
  /** Called for every call, register, publish and subscribe; `false` answers `wamp.error.not_authorized`. */
  authorize?: Authorizer;
  /**
   * Slow consumers: once more than this many bytes wait to be sent to one session (its peer stopped
   * reading), the next message for it ends the session with ABORT `rt.error.slow_consumer`. The router
   * then holds at most this plus one message per session. Default 4 MiB.
   */
  maxOutgoingBuffer?: number;
  /**
   * A session whose outgoing buffer stays above its transport's write high water mark (1 MiB by
   * default) for this long is ended the same way. Default 30 000 ms; `Infinity` (or anything beyond
   * the 2^31 - 1 ms timer range) turns it off.
   */
  slowConsumerTimeoutMs?: number;
  /**
   * Event retention: how many topics of one realm keep a retained event (default 10 000,
   * `DEFAULT_MAX_RETAINED_TOPICS`; 0 turns retention off). Beyond it, the topic whose event was
   * retained longest ago loses it.
   */
  maxRetainedTopics?: number;
}

/** Default `RouterOptions.maxOutgoingBuffer`: 4 MiB. */
export const DEFAULT_MAX_OUTGOING_BUFFER = 4 * 1024 * 1024;
/** Default `RouterOptions.slowConsumerTimeoutMs`: 30 s. */
export const DEFAULT_SLOW_CONSUMER_TIMEOUT_MS = 30_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** Options for `Router.listen()`. */
export interface ListenOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Port for WebSocket (0 picks a free one). */
  port?: number;
  /** WebSocket path (default `/ws`). */
  path?: string;
  /**
   * Serve the WebSocket path on this HTTP(S) server instead of a port of the router's own
   * (`host`/`port` are then ignored; the app keeps every other path). Listen on it first.
   */
  server?: HttpServer;
  /** Largest accepted message in bytes (default 16 MiB). */
  maxPayload?: number;
  /** Accept permessage-deflate on WebSocket from clients that offer it (default off). */
  compression?: WebSocketCompression;
  /** Also serve RawSocket (TCP) on this port (0 picks a free one). */
  rawSocketPort?: number;
  /** Ping idle RawSocket clients after this long and drop those that stay silent as long again. */
  rawSocketPingIntervalMs?: number;
}

/** Where a router listens. */
export interface RouterAddress {
  /** The bound interface. */
  host: string;
  /** The bound WebSocket port. */
  port: number;
  /** `ws://host:port/ws`. */
  url: string;
  /** The RawSocket port, when RawSocket was asked for. */
  rawSocketPort?: number;
  /** `tcp://host:rawSocketPort`, when RawSocket was asked for. */
  rawSocketUrl?: string;
}

const FEATURES = {
  broker: {
    features: {
      publisher_identification: true, publisher_exclusion: true, subscriber_blackwhite_listing: true,
      pattern_based_subscription: true, session_meta_api: true, subscription_meta_api: true,
      payload_passthru_mode: true, event_retention: true, subscription_revocation: true,
    },
  },
  dealer: {
    features: {
      caller_identification: true, progressive_call_results: true, call_canceling: true, call_timeout: true,
      pattern_based_registration: true, shared_registration: true, session_meta_api: true,
      registration_meta_api: true, payload_passthru_mode: true, progressive_call_invocations: true,
      testament_meta_api: true, call_reroute: true, registration_revocation: true,
    },
  },
};

/**
 * A WAMP router: realms with a dealer (RPC) and a broker (PubSub), authentication, the session
 * and registration/subscription meta API. Serve it with `listen()` or hand it transports with
 * `attach()`.
 */
export class Router {
  readonly #realms = new Map<string, Realm>();
  readonly #options: RouterOptions;
  readonly #sessions = new Set<RouterSession>();
  readonly #listeners: Listener[] = [];
  readonly #servers: Server[] = [];
  readonly #context: RouterContext;

  constructor(options: RouterOptions) {
    this.#options = options;
    for (const name of options.realms) this.addRealm(name);
    const auth = options.auth;
    this.#context = {
      realm: (name) => this.#realms.get(name),
      authenticators: (realm) => (auth === undefined ? undefined : Array.isArray(auth) ? auth : (auth[realm] ?? [])),
      authorize: options.authorize,
      roles: FEATURES,
      outgoing: {
        maxBufferedBytes: positive('maxOutgoingBuffer', options.maxOutgoingBuffer, DEFAULT_MAX_OUTGOING_BUFFER),
        drainTimeoutMs: positive('slowConsumerTimeoutMs', options.slowConsumerTimeoutMs, DEFAULT_SLOW_CONSUMER_TIMEOUT_MS),
      },
    };
  }

  /** The realm named `name`, if served. */
  realm(name: string): Realm | undefined {
    return this.#realms.get(name);
  }

  /** Serve a new realm (with the router's `maxRetainedTopics` and `authorize` unless `options` say otherwise). */
  addRealm(name: string, options: RealmOptions = {}): Realm {
    let realm = this.#realms.get(name);
    if (realm === undefined) {
      realm = new Realm(name, { maxRetainedTopics: this.#options.maxRetainedTopics, authorize: this.#options.authorize, ...options });
      this.#realms.set(name, realm);
    }
    return realm;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Serve one connection that speaks `serializer` (for in-memory transports or custom listeners). */
  attach(transport: Transport, serializer: Serializer | SerializerName = 'json'): Promise<void> {
    const session = new RouterSession(this.#context, transport, typeof serializer === 'string' ? serializers[serializer] : serializer);
    this.#sessions.add(session);
    return session.run().catch(() => transport.abort()).finally(() => this.#sessions.delete(session));
  }

  /**
   * Listen for WebSocket clients at `ws://host:port/ws` (subprotocols `wamp.2.json`,
   * `wamp.2.msgpack`, `wamp.2.cbor`), on a port of its own or on `options.server`.
   */
  async listen(options: ListenOptions = {}): Promise<RouterAddress> {
    const listener = await listenWebSocket({
      ...(options.server === undefined ? { host: options.host ?? '127.0.0.1', port: options.port ?? 0 } : { server: options.server }),
      path: options.path ?? '/ws',
      protocols: Object.values(serializers).map((s) => s.subprotocol),
      requireProtocol: true,
      ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
      ...(options.compression === undefined ? {} : { compression: options.compression }),
    });
    this.#listeners.push(listener);
    listener.onConnection((transport) => {
      const serializer = serializerForSubprotocol(transport.protocol);
      if (serializer === undefined) void transport.close(CLOSE_PROTOCOL_ERROR, 'no WAMP subprotocol');
      else void this.attach(transport, serializer);
    });
    const address: RouterAddress = { host: listener.address.host, port: listener.address.port, url: listener.url };
    if (options.rawSocketPort !== undefined) {
      const port = await this.#listenRawSocket(address.host, options.rawSocketPort, options.maxPayload, options.rawSocketPingIntervalMs);
      address.rawSocketPort = port;
      address.rawSocketUrl = `tcp://${address.host}:${port}`;
    }
    return address;
  }

  async #listenRawSocket(host: string, port: number, maxLength: number | undefined, pingIntervalMs: number | undefined): Promise<number> {
    const ids = Object.values(serializers).map((s) => s.rawSocketId);
    const server = createServer((socket) => {
      void acceptRawSocket(socket, ids, { maxLength, pingIntervalMs }).then((accepted) => {
        if (accepted === undefined) return;
        const serializer = Object.values(serializers).find((s) => s.rawSocketId === accepted.serializerId) as Serializer;
        void this.attach(accepted.transport, serializer);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#servers.push(server);
    const bound = server.address();
    return typeof bound === 'object' && bound !== null ? bound.port : port;
  }

  /**
   * Publish every session's testaments, then say GOODBYE (`wamp.close.system_shutdown`) to every
   * session and stop listening.
   */
  async close(): Promise<void> {
    for (const realm of this.#realms.values()) realm.publishTestaments();
    for (const session of this.#sessions) session.shutdown();
    await Promise.all([
      ...this.#listeners.map((listener) => listener.close()),
      ...this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ]);
    this.#listeners.length = 0;
    this.#servers.length = 0;
  }

  /** The options the router was made with. */
  get options(): Readonly<RouterOptions> {
    return this.#options;
  }
}


