import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocketCompression } from '@rt/transport';
import type { EJSON } from '../ejson.js';
import type { DDPVersion } from '../versions.js';
import type { MethodInvocation } from './method-invocation.js';
import type { PublicationContext } from './publication-context.js';
import type { RateLimiter } from './rate-limiter.js';

/** One client connection, as methods and publications see it (Meteor's `this.connection`). */
export interface DDPConnection {
  /** The DDP session id sent to the client in `connected`. */
  readonly id: string;
  /** The client's IP address, when known. */
  readonly clientAddress: string | undefined;
  /** Headers of the WebSocket upgrade request (empty for other transports). */
  readonly httpHeaders: Readonly<IncomingHttpHeaders>;
  /** The negotiated DDP version. */
  readonly version: string;
  /** Run `callback` once when the connection closes (at once if it already has). */
  onClose(callback: () => void): void;
  /** Close the connection. */
  close(): void;
}

/**
 * A method implementation. `this` is the call's `MethodInvocation`; the parameters are the
 * EJSON values the client sent (annotate them: the server does not validate their types).
 * Return a value (or a promise) to answer, throw a `DDPError` to send an error.
 */
export type MethodHandler = (this: MethodInvocation, ...params: never[]) => unknown;

/**
 * A publication. `this` is the subscription's `PublicationContext`: call `added`, `changed`,
 * `removed` and `ready`; register cleanup with `onStop`. Or return a `PublishableCursor` (or
 * an array of them) and the server publishes it and sends `ready` itself. The parameters are
 * the EJSON values the client sent. Throwing (or rejecting) ends the subscription with that error.
 */
export type PublishHandler = (this: PublicationContext, ...params: never[]) => unknown;

/** Callbacks a `PublishableCursor` reports its documents to. */
export interface ObserveCallbacks {
  added(id: string, fields: Record<string, unknown>): void;
  /** A value of `undefined` clears that field. */
  changed(id: string, fields: Record<string, unknown>): void;
  removed(id: string): void;
}

/**
 * A live query a publication can return (Meteor's cursor, reduced to what publishing needs):
 * `observeChanges` reports the current documents through `added` before it returns (or
 * resolves), then every later change, until the returned handle is stopped.
 */
export interface PublishableCursor {
  /** The client collection the documents go into. */
  readonly collectionName: string;
  /** Start observing; the subscription stops the handle when it ends. */
  observeChanges(callbacks: ObserveCallbacks): { stop(): void } | Promise<{ stop(): void }>;
}

/** What a login attempt asks for, as decoded from the `login` method's argument. */
export type LoginRequest =
  | {
      /** `loginWithPassword`: a user selector and the password (Meteor clients send a SHA-256 digest). */
      kind: 'password';
      user: { username?: string; email?: string; id?: string };
      password: { digest: string; algorithm: 'sha-256' } | string;
    }
  | {
      /** `loginWithToken` and reconnects: a resume token issued by an earlier login. */
      kind: 'resume';
      token: string;
    }
  | {
      /** Any other login argument, handed over as sent. */
      kind: 'other';
      params: unknown;
    };

/** A successful login. */
export interface LoginResult {
  /** The logged-in user. */
  userId: string;
  /** A resume token the client keeps and sends after reconnecting. */
  token?: string;
  /** When `token` stops being accepted. */
  tokenExpires?: Date;
}

/** Context handed to login and logout hooks. */
export interface AuthContext {
  /** The connection logging in or out. */
  readonly connection: DDPConnection;
  /** The user logged in on this connection before this call, if any. */
  readonly userId: string | null;
}

/**
 * Decides a login. Return the user (and optionally a resume token), or throw a `DDPError`
 * (for example `new DDPError(403, 'Incorrect password')`) to refuse.
 */
export type LoginHandler = (request: LoginRequest, context: AuthContext) => LoginResult | Promise<LoginResult>;

/** Per-connection limits. A client that breaks one gets a DDP error or is disconnected. */
export interface DDPServerLimits {
  /** Largest accepted message, in bytes. Larger ones close the connection (1009). Default 1 MiB. */
  maxMessageBytes?: number;
  /** Active subscriptions per connection; more are refused with `nosub`. Default 1000. */
  maxSubscriptions?: number;
  /** Subscription and method messages waiting to run; more close the connection. Default 1000. */
  maxQueuedMessages?: number;
  /** Bytes waiting to be written to a slow client before it is disconnected. Default 64 MiB. */
  maxBufferedBytes?: number;
}


/** Where an unexpected server-side error happened. */
export interface ErrorContext {
  /** The connection involved, if any. */
  connection?: DDPConnection;
  /** The method that threw, if any. */
  method?: string;
  /** The publication that threw, if any. */
  publication?: string | null;
}

/** Options for `DDPServer`. */
export interface DDPServerOptions {
  /** DDP versions to speak, most preferred first. Default `['1', 'pre2', 'pre1']`. */
  versions?: readonly DDPVersion[];
  /** Ping an idle client after this many milliseconds; 0 disables heartbeats. Default 15 000. */
  heartbeatIntervalMs?: number;
  /** Disconnect a client that stays silent this long after a ping. Default 15 000. */
  heartbeatTimeoutMs?: number;
  /** Enables the `login` method (password and resume-token logins) through this hook. */
  login?: LoginHandler;
  /** Called by the `logout` method (for example to revoke tokens) before the user is cleared. */
  logout?: (context: AuthContext) => void | Promise<void>;
  /** EJSON instance with the custom types this server understands. Default: the shared `ejson`. */
  ejson?: EJSON;
  /** Per-connection limits. */
  limits?: DDPServerLimits;
  /**
   * Trusted proxies in front of the server (Meteor's `HTTP_FORWARDED_COUNT`), for
   * `connection.clientAddress`. 0, the default, uses the socket's peer address and ignores
   * `X-Forwarded-For`; with N proxies the address is the N-th entry from the end of it.
   */
  httpForwardedCount?: number;
  /**
   * permessage-deflate on `/websocket` for clients that offer it (browsers do): `true`
   * compresses messages of 1 KiB or more, `{ threshold }` sets the size. Default off: it trades
   * CPU and memory per connection for bandwidth, worth it for large subscriptions on slow links.
   */
  compression?: WebSocketCompression;
  /**
   * Rate limits for methods and subscriptions, for example one shared by several servers or
   * one with its own clock. Default: a new, empty `RateLimiter` (see `DDPServer.rateLimiter`).
   */
  rateLimiter?: RateLimiter;
  /**
   * Serve SockJS, as Meteor does, beside `/websocket` on the same HTTP server: Meteor's browser
   * clients connect through it (`/sockjs/info`, then WebSocket, xhr-streaming or xhr-polling).
   * `true` (default) uses Meteor's settings, an object changes them, `false` serves WebSocket only.
   */
  sockjs?: boolean | SockJSOptions;
  /** Called for every new connection after the DDP handshake. */
  onConnection?: (connection: DDPConnection) => void;
  /**
   * Called with errors the client only sees as "Internal server error" (anything thrown that
   * is not a `DDPError`). Default: `console.error`.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
}

/**
 * The SockJS endpoint (the `sockjs` package Meteor uses). Defaults are Meteor's; the
 * environment variables Meteor reads for them are named beside each.
 */
export interface SockJSOptions {
  /** URL prefix. Default `/sockjs`. */
  prefix?: string;
  /**
   * Offer SockJS's WebSocket transports (`<prefix>/<server>/<session>/websocket` and the raw
   * `<prefix>/websocket`). `false` leaves the HTTP transports, as Meteor's `DISABLE_WEBSOCKETS`.
   * Default `true`.
   */
  websocket?: boolean;
  /** Send a SockJS heartbeat frame after this many idle milliseconds. Default 45 000. */
  heartbeatDelayMs?: number;
  /**
   * End an HTTP-transport session after its client has had no request open this long
   * (a client that stopped polling is seen to leave only then). Default 60 000.
   */
  disconnectDelayMs?: number;
  /** Set a `JSESSIONID` cookie for load balancers with sticky sessions (`USE_JSESSIONID`). Default `false`. */
  jsessionid?: boolean;
  /** Leave out the CORS headers (`DISABLE_SOCKJS_CORS`). Default `false`. */
  disableCors?: boolean;
  /** Bytes one streaming response carries before the client opens the next. Default 128 KiB. */
  responseLimitBytes?: number;
  /**
   * Largest SockJS frame accepted: one WebSocket frame or one `xhr_send` body, either of which
   * may batch several DDP messages. Larger ones close the session with 1009.
   * Default 8 × `limits.maxMessageBytes`.
   */
  maxFrameBytes?: number;
}

/** Options for `DDPServer.listen`. */
export interface ListenOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** WebSocket path. Default `/websocket`, as Meteor. SockJS is served beside it (see `DDPServerOptions.sockjs`). */
  path?: string;
}
