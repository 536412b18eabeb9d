import type { Dict, WampMessage } from '../messages.js';

/** A joined session as the router's dealer, broker and hooks see it. */
export interface SessionInfo {
  readonly id: number;
  readonly realm: string;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  readonly authextra: Dict;
  /** The roles (and features) the client announced in HELLO. */
  readonly roles: Dict;
  /** Transport details: serializer and peer address. */
  readonly transport: { serializer: string; peer: string | undefined };
}

/** A session the router can deliver messages to. */
export interface RoutedSession extends SessionInfo {
  /** Deliver one message to the session's peer. */
  send(message: WampMessage): void;
  /** End the session with GOODBYE (`reason`, optional `message`) and close its connection. */
  kill(reason: string, message?: string): void;
  /** True when the client announced `feature` for `role` (e.g. callee, call_canceling). */
  supports(role: string, feature: string): boolean;
}

/** Action names passed to the authorization hook. */
export type Action = 'call' | 'register' | 'publish' | 'subscribe';

/** Decides whether `session` may do `action` on `uri`. */
export type Authorizer = (session: SessionInfo, uri: string, action: Action) => boolean | Promise<boolean>;

/** The session meta data returned by `wamp.session.get` and sent with `wamp.session.on_join`. */
export function sessionDetails(session: SessionInfo): Dict {
  return {
    session: session.id, authid: session.authid, authrole: session.authrole, authmethod: session.authmethod,
    authprovider: session.authprovider, authextra: session.authextra, transport: session.transport,
  };
}
