/**
 * `@rt/wamp`: a WAMP v2 client (RPC + PubSub) for Node and browsers.
 * @packageDocumentation
 */
export { connect } from './client/connect.js';
export type { ConnectOptions } from './client/connect.js';
export { Client } from './client/client.js';
export type { ClientEvents, ClientOptions } from './client/client.js';
export type { RegistrationRevoked, RevocationEvents, SubscriptionRevoked } from './client/revocation.js';
export type { JoinOptions, SessionDetails } from './client/join.js';
export { Call } from './client/call.js';
export { Result } from './client/types.js';
export type {
  CallOptions, CallResult, CancelMode, EventHandler, Invocation, InvocationChunk, ProcedureHandler, PublishOptions, RegisterOptions,
  SubscribeOptions, SubscriptionEvent,
} from './client/types.js';
export { cryptosignAuth, deriveKey, ticketAuth, wampcraAuth } from './client/auth.js';
export type { ClientAuthenticator } from './client/auth.js';
export {
  AbortError, ApplicationError, AuthError, CanceledError, ClientClosedError, ErrorRegistry, UnavailableError, WampProtocolError,
} from './errors.js';
/** Base class of `WampProtocolError`, from `@rt/transport`. */
export { ProtocolError } from '@rt/transport';
export type { ApplicationErrorClass, ApplicationErrorInit } from './errors.js';
export { ErrorUri, RtErrorUri } from './error-uris.js';
export { MessageType, messageTypeName } from './message-types.js';
export type { MessageTypeCode } from './message-types.js';
export type * from './messages.js';
export { decodeMessage, encodeMessage } from './message-codec.js';
export { cborSerializer, jsonSerializer, msgpackSerializer, serializers, serializerForSubprotocol } from './serializer.js';
export type { Serializer, SerializerName } from './serializer.js';
export { isMatchPolicy, isValidUri, matchUri } from './uri.js';
export type { MatchPolicy } from './uri.js';
