/**
 * `@rt/jsonrpc` for Node: everything in the browser entry, plus `Server` (TCP, TLS and
 * WebSocket) and TCP/TLS client sessions.
 * @packageDocumentation
 */
export * from './index.js';
export { Server } from './server.js';
export type { ServerAddress, ServerOptions, SessionFactory, WebSocketServeOptions } from './server.js';
