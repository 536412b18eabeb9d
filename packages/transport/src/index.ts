/**
 * `@rt/transport`: message transports, codecs, framers, reconnect and backpressure.
 * This entry is browser-safe: it imports no Node built-ins.
 * @packageDocumentation
 */
export { AbortError, ClosedError, ConnectionError, MessageTooLargeError, ProtocolError, RtError, TimeoutError } from './errors.js';
export type { RtErrorOptions } from './errors.js';
export {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
} from './transport.js';
export type { CloseInfo, Transport, TransportMessage, TransportState, WaitOptions } from './transport.js';
export { deferred, delay, throwIfAborted, toAbortError, waitFor } from './abort.js';
export type { Deferred, WaitForOptions } from './abort.js';
export { AsyncQueue } from './async-queue.js';
export type { AsyncQueueOptions } from './async-queue.js';
export { BaseTransport } from './base-transport.js';
export type { BaseTransportOptions } from './base-transport.js';
export { createMemoryPair, MemoryTransport } from './memory-transport.js';
export { createMsgpackCodec, jsonCodec, messageToText, msgpackCodec } from './codec.js';
export type { Codec } from './codec.js';
export { ByteAccumulator, DEFAULT_MAX_FRAME_SIZE } from './framer.js';
export type { FrameSink, Framer, FramerFactory } from './framer.js';
export { NewlineFramer } from './newline-framer.js';
export type { NewlineFramerOptions } from './newline-framer.js';
export { LengthPrefixFramer } from './length-prefix-framer.js';
export type { LengthPrefixFramerOptions } from './length-prefix-framer.js';
export { ContentLengthFramer } from './content-length-framer.js';
export type { ContentLengthFramerOptions } from './content-length-framer.js';
export { connectWebSocket } from './websocket-connect.js';
export type { WebSocketCompression, WebSocketConnectOptions, WebSocketTlsOptions } from './websocket-connect.js';
export { StandardWebSocketTransport } from './websocket-transport.js';
export type { StandardWebSocket, StandardWebSocketConstructor } from './websocket-transport.js';
export { Emitter } from './emitter.js';
export type { EventMap } from './emitter.js';
export { ReconnectPolicy } from './reconnect-policy.js';
export type { ReconnectPolicyOptions } from './reconnect-policy.js';
export { Reconnector } from './reconnector.js';
export type { ReconnectorEvents, ReconnectStatus } from './reconnector.js';
export { Heartbeat } from './heartbeat.js';
export type { HeartbeatOptions } from './heartbeat.js';
