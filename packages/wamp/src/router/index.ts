/**
 * `@rt/wamp/router`: a WAMP v2 router (dealer + broker, event retention, testaments) for Node.
 * @packageDocumentation
 */
export { DEFAULT_MAX_OUTGOING_BUFFER, DEFAULT_SLOW_CONSUMER_TIMEOUT_MS, Router } from './router.js';
export type { ListenOptions, RouterAddress, RouterOptions } from './router.js';
export { Realm } from './realm.js';
export type { RealmOptions } from './realm.js';
export { DEFAULT_MAX_RETAINED_TOPICS, RetainedEvents } from './retention.js';
export type { RetainedEvent } from './retention.js';
export { Testaments } from './testaments.js';
export type { TestamentScope } from './testaments.js';
export { Dealer } from './dealer.js';
export type { InternalProcedure, InvokePolicy, Registration } from './dealer.js';
export { Broker } from './broker.js';
export type { Subscription } from './broker.js';
export {
  anonymousAuthenticator, AuthenticationFailed, cryptosignAuthenticator, deriveCraKey, ticketAuthenticator, wampcraAuthenticator,
} from './authenticators.js';
export type { AuthIdentity, Authenticator, CraUser, HelloInfo } from './authenticators.js';
export type { Action, Authorizer, RoutedSession, SessionInfo } from './session-info.js';
