/** Everything both entries share. */
export { connect, RoomClient } from './client.js';
export type { ClientStatus, ConnectOptions, RoomClientEvents, TokenSource } from './client-options.js';
export { bind, RoomServer } from './server.js';
export type { AuthGrant, AuthRequest, Authenticate, BindOptions, RoomFactory, RoomServerEvents } from './server.js';
export { Room } from './room.js';
export type { MessageFilter, RoomEvents, RoomOptions } from './room-options.js';
export { RoomConnection } from './room-connection.js';
export type { ServeOptions } from './room-connection.js';
export { memory, MemoryWire } from './memory-wire.js';
export type { MemoryWireOptions } from './memory-wire.js';
export { decodeRoomPath, encodeRoomPath, WebSocketWire } from './websocket-wire.js';
export type { WebSocketListen, WebSocketWireOptions } from './websocket-wire.js';
export type { IncomingChannel, Wire, WireListener, WireOpenOptions } from './wire.js';
export { MemoryStore, memoryStore } from './store.js';
export type { RoomStore } from './store.js';
export { decodeBusMessage, encodeBusMessage, MemoryBus, memoryBus } from './bus.js';
export type { BusMessage, BusSubscription, RoomBus } from './bus.js';
export { PermissionDeniedError, StorageError } from './errors.js';
export { CLOSE_PERMISSION_DENIED, CLOSE_TRY_AGAIN_LATER } from './close-codes.js';
export {
  AUTH_PERMISSION_DENIED,
  decodeAwarenessUpdate,
  decodeMessage,
  EMPTY_AWARENESS_MESSAGE,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeAwarenessUpdateMessage,
  encodeMessage,
  encodePermissionDenied,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  MESSAGE_AUTH,
  MESSAGE_AWARENESS,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SYNC,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
} from './protocol.js';
export type { AwarenessEntry, RoomMessage, RoomMessageType } from './protocol.js';
