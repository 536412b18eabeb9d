/**
 * `@rt/rooms`: Yjs rooms over the standard y-protocols (sync, awareness, auth). This
 * entry is browser-safe: `connect` with the `websocket` or `memory` wire, `Room` and
 * `bind` for in-process servers. The Node entry adds WebSocket listening and the file store.
 * @packageDocumentation
 */
export * from './common.js';
export { websocket } from './websocket-wire.js';
