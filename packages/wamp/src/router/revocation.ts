import { ErrorUri } from '../error-uris.js';
import { MessageType } from '../message-types.js';
import type { Dict } from '../messages.js';
import type { Broker } from './broker.js';
import type { Dealer } from './dealer.js';
import type { RoutedSession } from './session-info.js';

/** The feature a callee or subscriber announces to be told about revocations, and the message that tells it. */
const REVOCATION = {
  registration: { role: 'callee', feature: 'registration_revocation', type: MessageType.UNREGISTERED },
  subscription: { role: 'subscriber', feature: 'subscription_revocation', type: MessageType.UNSUBSCRIBED },
} as const;

/**
 * Tell `session` that the router took its registration or subscription `id` away: UNREGISTERED
 * `[67, 0, { registration, reason }]` or UNSUBSCRIBED `[35, 0, { subscription, reason }]` (no
 * `reason` when none was given). A session that did not announce `registration_revocation` /
 * `subscription_revocation` is told nothing, as the specification requires.
 */
export function notifyRevoked(session: RoutedSession, kind: 'registration' | 'subscription', id: number, reason: string | undefined): void {
  const { role, feature, type } = REVOCATION[kind];
  if (!session.supports(role, feature)) return;
  const details: Dict = reason === undefined ? { [kind]: id } : { [kind]: id, reason };
  session.send({ type, requestId: 0, details });
}

/** An error a meta procedure answers with (its `uri` becomes the ERROR's URI). */
export class MetaError extends Error {
  constructor(readonly uri: string, message: string) {
    super(message);
  }
}

function revocationArgs(args: unknown[], kwargs: Dict, name: string): [number, number, string | undefined] {
  const [id, sessionId] = args;
  const reason = args[2] ?? kwargs['reason'] ?? undefined;
  if (typeof id !== 'number' || typeof sessionId !== 'number' || (reason !== undefined && reason !== null && typeof reason !== 'string')) {
    throw new MetaError(ErrorUri.INVALID_ARGUMENT, `${name} takes an id, a session id and an optional reason string`);
  }
  return [id, sessionId, typeof reason === 'string' ? reason : undefined];
}

/**
 * Serve the revocation meta procedures (Crossbar.io's names and arguments), each returning `null`:
 * `wamp.registration.remove_callee(registration_id, callee_id, reason?)` and
 * `wamp.subscription.remove_subscriber(subscription_id, subscriber_id, reason?)` (`reason` also as a
 * keyword argument). They answer `wamp.error.no_such_session` for an unknown session, and
 * `wamp.error.no_such_registration` / `no_such_subscription` when the id is unknown or the session
 * is not on it. Like every call they pass the router's authorization hook first (action `call`).
 */
export function addRevocationMeta(dealer: Dealer, broker: Broker, sessions: ReadonlyMap<number, RoutedSession>): void {
  const known = (sessionId: number): void => {
    if (!sessions.has(sessionId)) throw new MetaError(ErrorUri.NO_SUCH_SESSION, `no session ${sessionId}`);
  };
  dealer.addInternal('wamp.registration.remove_callee', (_caller, args, kwargs) => {
    const [id, sessionId, reason] = revocationArgs(args, kwargs, 'wamp.registration.remove_callee');
    known(sessionId);
    if (!dealer.removeCallee(id, sessionId, reason)) {
      throw new MetaError(ErrorUri.NO_SUCH_REGISTRATION, `session ${sessionId} is no callee of registration ${id}`);
    }
    return null;
  });
  dealer.addInternal('wamp.subscription.remove_subscriber', (_caller, args, kwargs) => {
    const [id, sessionId, reason] = revocationArgs(args, kwargs, 'wamp.subscription.remove_subscriber');
    known(sessionId);
    if (!broker.removeSubscriber(id, sessionId, reason)) {
      throw new MetaError(ErrorUri.NO_SUCH_SUBSCRIPTION, `session ${sessionId} is no subscriber of subscription ${id}`);
    }
    return null;
  });
}
