import { ConnectionError, type Transport } from '@rt/transport';
import { ErrorUri } from '../error-uris.js';
import { AbortError, AuthError, WampProtocolError } from '../errors.js';
import { MessageType } from '../message-types.js';
import type { Dict } from '../messages.js';
import type { Serializer } from '../serializer.js';
import type { ClientAuthenticator } from './auth.js';

/** The joined session. */
export interface SessionDetails {
  /** The session id the router assigned. */
  id: number;
  /** The joined realm. */
  realm: string;
  /** The authid the router granted. */
  authid: string | undefined;
  /** The role the router granted. */
  authrole: string | undefined;
  /** The auth method used. */
  authmethod: string | undefined;
  /** The WELCOME details (router roles and features). */
  details: Dict;
}

/** How to join: the realm and the credentials. */
export interface JoinOptions {
  /** The realm to join. */
  realm: string;
  /** Authentication methods to offer, in order of preference. */
  auth?: ClientAuthenticator | ClientAuthenticator[] | undefined;
  /** The authentication id to ask for. */
  authid?: string | undefined;
  /** The role to ask for. */
  authrole?: string | undefined;
  /** Extra authentication data sent in HELLO. */
  authextra?: Dict | undefined;
  /** Give up joining after this long (default 10 s). */
  joinTimeoutMs?: number | undefined;
}

/** The roles and features this client announces in HELLO. */
const CLIENT_ROLES: Dict = {
  caller: {
    features: {
      progressive_call_results: true, progressive_call_invocations: true, call_canceling: true, call_timeout: true,
      caller_identification: true, payload_passthru_mode: true,
    },
  },
  callee: {
    features: {
      progressive_call_results: true, progressive_call_invocations: true, call_canceling: true, call_timeout: true,
      caller_identification: true, pattern_based_registration: true, shared_registration: true, payload_passthru_mode: true,
      call_reroute: true, registration_revocation: true,
    },
  },
  publisher: { features: { publisher_identification: true, publisher_exclusion: true, subscriber_blackwhite_listing: true, payload_passthru_mode: true } },
  subscriber: {
    features: { pattern_based_subscription: true, publisher_identification: true, payload_passthru_mode: true, subscription_revocation: true },
  },
};

/** True when the router announced `feature` for `role` (`dealer`, `broker`) in WELCOME. */
export function routerSupports(session: SessionDetails, role: string, feature: string): boolean {
  const roles = session.details['roles'] as Record<string, { features?: Dict } | undefined> | undefined;
  return roles?.[role]?.features?.[feature] === true;
}

const AUTH_REASONS = new Set<string>([ErrorUri.NO_AUTH_METHOD, ErrorUri.NOT_AUTHORIZED]);

/**
 * The opening handshake: HELLO, then any CHALLENGE/AUTHENTICATE rounds, until WELCOME
 * (resolves the session) or ABORT (throws `AuthError` or `AbortError`).
 */
export async function joinSession(transport: Transport, serializer: Serializer, options: JoinOptions): Promise<SessionDetails> {
  const authenticators = options.auth === undefined ? [] : Array.isArray(options.auth) ? options.auth : [options.auth];
  let authextra: Dict = { ...options.authextra };
  for (const authenticator of authenticators) {
    if (authenticator.authextra !== undefined) authextra = { ...authextra, ...(await authenticator.authextra()) };
  }
  const details: Dict = { roles: CLIENT_ROLES, agent: 'rt-wamp' };
  if (authenticators.length > 0) details['authmethods'] = authenticators.map((a) => a.method);
  if (options.authid !== undefined) details['authid'] = options.authid;
  if (options.authrole !== undefined) details['authrole'] = options.authrole;
  if (Object.keys(authextra).length > 0) details['authextra'] = authextra;
  transport.write(serializer.serialize({ type: MessageType.HELLO, realm: options.realm, details }));
  const timeoutMs = options.joinTimeoutMs ?? 10_000;
  for (;;) {
    const data = await transport.receive({ timeoutMs });
    if (data === undefined) throw new ConnectionError('the connection closed while joining');
    const message = serializer.deserialize(data);
    switch (message.type) {
      case MessageType.WELCOME: {
        const d = message.details;
        return {
          id: message.sessionId, realm: options.realm, details: d,
          authid: typeof d['authid'] === 'string' ? d['authid'] : undefined,
          authrole: typeof d['authrole'] === 'string' ? d['authrole'] : undefined,
          authmethod: typeof d['authmethod'] === 'string' ? d['authmethod'] : undefined,
        };
      }
      case MessageType.ABORT: {
        const isAuth = message.reason.startsWith('wamp.error.auth') || AUTH_REASONS.has(message.reason);
        throw isAuth ? new AuthError(message.reason, message.details) : new AbortError(message.reason, message.details);
      }
      case MessageType.CHALLENGE: {
        const authenticator = authenticators.find((a) => a.method === message.authMethod);
        if (authenticator === undefined) {
          transport.write(serializer.serialize({ type: MessageType.ABORT, details: {}, reason: ErrorUri.NO_AUTH_METHOD }));
          throw new AuthError(ErrorUri.NO_AUTH_METHOD, { message: `the router asked for ${message.authMethod}` });
        }
        const signature = await authenticator.respond(message.extra);
        transport.write(serializer.serialize({ type: MessageType.AUTHENTICATE, signature, extra: {} }));
        break;
      }
      default:
        transport.write(serializer.serialize({ type: MessageType.ABORT, details: {}, reason: ErrorUri.PROTOCOL_VIOLATION }));
        throw new WampProtocolError(`unexpected message type ${message.type} while joining`);
    }
  }
}
