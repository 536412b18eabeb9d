/**
 * `@rt/ddp`: a Meteor DDP client with EJSON, live collections, subscriptions, methods,
 * logins and reconnects. Browser-safe; the server lives at `@rt/ddp/server`.
 * @packageDocumentation
 */
export { DDPClient } from './client/ddp-client.js';
export type { DDPClientEvents } from './client/ddp-client.js';
export type { LoginResult, UserSelector } from './client/login.js';
export type { DDPClientOptions, HeartbeatOptions } from './client/options.js';
export type { ConnectionState, ConnectionStatus } from './client/connection-status.js';
export { Subscription } from './client/subscription.js';
export { Collection, CollectionQueue } from './client/collection.js';
export { CollectionCursor } from './client/collection-cursor.js';
export type { FindOptions, ObserveCallbacks, ObserveChangesCallbacks, ObserveHandle, Selector } from './client/collection-cursor.js';
export type {
  AddedEvent,
  ChangedEvent,
  CollectionEvent,
  CollectionQueueOptions,
  DDPDocument,
  RemovedEvent,
} from './client/collection.js';
export type { ApplyOptions, MethodPromise } from './client/method-queue.js';
export { SimulationError, StubCollection } from './client/method-stubs.js';
export type { MethodStub, MethodStubContext, StubInsert } from './client/method-stubs.js';
export { MeteorRetryPolicy } from './client/retry-policy.js';
export type { MeteorRetryOptions, RetryPolicy } from './client/retry-policy.js';
export { EJSON, ejson } from './ejson.js';
export type { EJSONCustomValue, EJSONTypeFactory, EJSONValue, JSONValue } from './ejson.js';
export {
  DDPError,
  EJSONError,
  InvocationFailedError,
  QueueOverflowError,
  ServerProtocolError,
  SubscriptionError,
  VersionMismatchError,
} from './errors.js';
export type { DDPErrorObject } from './errors.js';
export { MessageType } from './messages.js';
export type * from './messages.js';
export {
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
  MalformedMessageError,
} from './message-codec.js';
export { chooseVersion, SUPPORTED_VERSIONS } from './versions.js';
export type { DDPVersion } from './versions.js';
export { randomId } from './random-id.js';
