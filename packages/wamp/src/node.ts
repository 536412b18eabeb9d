/**
 * `@rt/wamp` for Node: the browser-safe client, plus RawSocket (`tcp://`, `tcps://`) in `connect()`.
 * @packageDocumentation
 */
export * from './index.js';
export { connect } from './client/connect-node.js';
export type { NodeConnectOptions } from './client/connect-node.js';
export { connectRawSocket } from './rawsocket/socket.js';
export type { RawSocketConnectOptions } from './rawsocket/socket.js';
export { decodeHandshake, encodeHandshake, RawSocketFramer } from './rawsocket/framer.js';
