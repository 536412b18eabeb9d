// Runs @y/websocket-server 0.1.1 (the y-websocket reference backend) on a free loopback port.
import http from 'node:http';
import { setupWSConnection } from '@y/websocket-server/utils';
import { WebSocketServer } from 'ws';

const sockets = new WebSocketServer({ noServer: true });
const server = http.createServer((_request, response) => response.end('okay'));
server.on('upgrade', (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (ws) => setupWSConnection(ws, request));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
