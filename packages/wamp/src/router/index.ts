/**
 * `@rt/wamp/router`: a WAMP v2 router (dealer + broker) for Node.
 * @packageDocumentation
 */
export { DEFAULT_MAX_OUTGOING_BUFFER, DEFAULT_SLOW_CONSUMER_TIMEOUT_MS, Router } from './router.js';
export type { ListenOptions, RouterAddress, RouterOptions } from './router.js';
export { Realm } from './realm.js';
export { Dealer } from './dealer.js';
export type { InternalProcedure, InvokePolicy, Registration } from './dealer.js';
export { Broker } from './broker.js';
export type { Subscription } from './broker.js';
export {
  anonymousAuthenticator, AuthenticationFailed, cryptosignAuthenticator, deriveCraKey, ticketAuthenticator, wampcraAuthenticator,
} from './authenticators.js';
export type { AuthIdentity, Authenticator, CraUser, HelloInfo } from './authenticators.js';
export type { Action, Authorizer, RoutedSession, SessionInfo } from './session-info.js';
