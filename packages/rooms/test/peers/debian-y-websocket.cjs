// Runs Debian's node-y-websocket 1.4.5 server code on a free loopback port. Its own
// requires (yjs, y-protocols, lib0) resolve to Debian's copies through NODE_PATH.
const http = require('node:http');
const { WebSocketServer } = require('ws');
const { setupWSConnection } = require('/usr/share/nodejs/y-websocket/bin/utils.js');
const yWebsocketVersion = require('/usr/share/nodejs/y-websocket/package.json').version;

const sockets = new WebSocketServer({ noServer: true });
const server = http.createServer((_request, response) => response.end('okay'));
server.on('upgrade', (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (ws) => setupWSConnection(ws, request));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port} y-websocket ${yWebsocketVersion}\n`);
});
