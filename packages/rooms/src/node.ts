/**
 * `@rt/rooms` for Node: everything in the browser entry, plus a WebSocket wire that can
 * listen (`bind(websocket({ port: 0 }))`) and the durable file store.
 * @packageDocumentation
 */
export * from './common.js';
export { websocket } from './websocket-listen.js';
export type { WebSocketServerWireOptions } from './websocket-listen.js';
export { FileStore, fileStore } from './file-store.js';
export type { FileStoreOptions } from './file-store.js';
