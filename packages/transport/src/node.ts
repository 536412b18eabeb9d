/**
 * `@rt/transport` for Node: everything in the browser entry, plus TCP/TLS, listeners and
 * a WebSocket client backed by the `ws` package.
 * @packageDocumentation
 */
export * from './index.js';
export { connectWebSocket } from './node-websocket-connect.js';
export { NodeWebSocketTransport } from './node-websocket-transport.js';
export { StreamTransport } from './stream-transport.js';
export type { OversizePolicy, StreamTransportOptions } from './stream-transport.js';
export { BaseListener } from './listener.js';
export type { ConnectionHandler, ConnectionInfo, Listener, ListenerAddress } from './listener.js';
export { connectTcp, listenTcp, TcpListener } from './tcp.js';
export type { TcpConnectOptions, TcpListenOptions } from './tcp.js';
export { listenWebSocket, WebSocketListener } from './websocket-listener.js';
export type { UpgradeVerdict, WebSocketListenOptions } from './websocket-listener.js';
