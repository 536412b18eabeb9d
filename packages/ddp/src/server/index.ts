/**
 * `@rt/ddp/server`: a DDP server with Meteor-style methods and publications, a per-client
 * merge box, logins, limits and rate limits. Node only.
 * @packageDocumentation
 */
export { DDPServer } from './ddp-server.js';
export { MethodInvocation } from './method-invocation.js';
export { PublicationContext } from './publication-context.js';
export { RateLimiter, TOO_MANY_REQUESTS } from './rate-limiter.js';
export type {
  RateLimitCallback,
  RateLimitErrorMessage,
  RateLimitFieldMatcher,
  RateLimiterOptions,
  RateLimitInput,
  RateLimitMatcher,
  RateLimitResult,
  RateLimitType,
} from './rate-limiter.js';
export type { PendingWrite } from './write-fence.js';
export type {
  AuthContext,
  DDPConnection,
  DDPServerLimits,
  DDPServerOptions,
  ErrorContext,
  ListenOptions,
  LoginHandler,
  LoginRequest,
  LoginResult,
  MethodHandler,
  ObserveCallbacks,
  PublishableCursor,
  PublishHandler,
  SockJSOptions,
} from './types.js';
export type { ClientInfo } from './session.js';
export { DDPError, EJSONError } from '../errors.js';
export type { DDPErrorObject } from '../errors.js';
export { EJSON, ejson } from '../ejson.js';
export type { EJSONCustomValue, EJSONTypeFactory, EJSONValue, JSONValue } from '../ejson.js';
export { SUPPORTED_VERSIONS } from '../versions.js';
export type { DDPVersion } from '../versions.js';
