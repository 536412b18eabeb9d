/**
 * `@rt/jsonrpc`: JSON-RPC 2.0 (and 1.0) sessions modelled on aiorpcx. This entry is
 * browser-safe (sessions over WebSocket); Node adds `Server` and TCP/TLS.
 * @packageDocumentation
 */
export * from './codes.js';
export { BatchError, ReplyAndDisconnect, RPCError } from './rpc-error.js';
export type { RPCErrorOptions } from './rpc-error.js';
export { isJsonObject, isRequestId, MessageKind } from './messages.js';
export type {
  BadResponseMessage,
  DecodedMessage,
  DecodedPayload,
  ErrorMessage,
  InvalidMessage,
  NotificationMessage,
  OutgoingCall,
  Params,
  RequestId,
  RequestMessage,
  ResultMessage,
} from './messages.js';
export { Protocol } from './protocol.js';
export { JSONRPCv2, JSONRPCv2Protocol } from './protocol-v2.js';
export { JSONRPCv1, JSONRPCv1Protocol } from './protocol-v1.js';
export { JSONRPCLoose, JSONRPCLooseProtocol } from './protocol-loose.js';
export { JSONRPCAutoDetect, JSONRPCAutoDetectProtocol } from './protocol-auto.js';
export { BatchBuilder } from './batch.js';
export type { Handlers, MethodMap, ParamsOf, ResultOf, UntypedMethods } from './method-map.js';
export type { CostLimits } from './cost.js';
export type { RPCRequest } from './incoming-request.js';
export type { CallOptions } from './pending-calls.js';
export type { SessionLimits, SessionOptions } from './session-options.js';
export { RPCSession } from './session.js';
export type {
  AttachableSession,
  BatchOptions,
  CloseOptions,
  SessionKind,
  SessionState,
  SessionStats,
} from './session-types.js';
export { ServerSession } from './server-session.js';
export { ClientSession, connect } from './client-session.js';
export type { ClientSessionOptions } from './client-session.js';
export { DEFAULT_MAX_MESSAGE_SIZE } from './dial.js';
export type { DialOptions } from './dial.js';
