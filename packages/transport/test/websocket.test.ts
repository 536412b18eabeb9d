import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as WsSocket } from 'ws';
import {
  CLOSE_GOING_AWAY,
  CLOSE_MESSAGE_TOO_BIG,
  ConnectionError,
  connectWebSocket,
  listenWebSocket,
  type Listener,
  type StandardWebSocketConstructor,
  type Transport,
} from '../src/node.js';
import { selfSignedCertificate } from './self-signed.js';
import { cleanups, echoOn, track } from './support.js';

async function echoServer(options: Parameters<typeof listenWebSocket>[0] = {}): Promise<Listener> {
  return echoOn(await listenWebSocket(options));
}

describe('WebSocket transport', () => {
  it('echoes text and binary messages in order', async () => {
    const server = await echoServer();
    const client = track(await connectWebSocket(server.url));
    const sent = ['one', new Uint8Array([1, 2, 3]), 'three'];
    for (const message of sent) await client.send(message);
    const received = [await client.receive(), await client.receive(), await client.receive()];
    expect(received[0]).toBe('one');
    expect(Array.from(received[1] as Uint8Array)).toEqual([1, 2, 3]);
    expect(received[2]).toBe('three');
  });

  it('works with a standard WebSocket class (the browser code path)', async () => {
    const server = await echoServer();
    const client = track(
      await connectWebSocket(server.url, { WebSocket: WsSocket as unknown as StandardWebSocketConstructor }),
    );
    await client.send('hello');
    await client.send(new Uint8Array([9]));
    expect(await client.receive()).toBe('hello');
    expect(Array.from((await client.receive()) as Uint8Array)).toEqual([9]);
  });

  it('negotiates permessage-deflate only when asked to, on either side', async () => {
    const big = 'compress me '.repeat(500);
    const compressing = await echoServer({ compression: { threshold: 0 } });
    const plain = await echoServer();
    // ws clients offer permessage-deflate by default: only the compressing listener accepts it.
    const extensions: string[] = [];
    for (const server of [compressing, plain]) {
      const raw = new WsSocket(server.url);
      cleanups.push(async () => raw.terminate());
      await once(raw, 'open');
      extensions.push(raw.extensions);
      raw.send(big);
      const [echoed] = (await once(raw, 'message')) as [Buffer];
      expect(echoed.toString()).toBe(big);
    }
    expect(extensions[0]).toMatch(/^permessage-deflate/);
    expect(extensions[1]).toBe('');
    // Our client offers it only with `compression`.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await once(wss, 'listening');
    wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const negotiated: string[] = [];
    for (const compression of [true, false]) {
      const accepted = once(wss, 'connection') as Promise<[WsSocket]>;
      const client = track(await connectWebSocket(url, { compression }));
      negotiated.push((await accepted)[0].extensions);
      await client.send(big);
      expect(await client.receive()).toBe(big);
    }
    expect(negotiated[0]).toMatch(/^permessage-deflate/);
    expect(negotiated[1]).toBe('');
    await expect(listenWebSocket({ compression: { threshold: -1 } })).rejects.toThrow(RangeError);
  });

  it('negotiates the first offered subprotocol the server speaks', async () => {
    const server = await echoServer({ protocols: ['wamp.2.msgpack', 'wamp.2.json'] });
    const client = track(await connectWebSocket(server.url, { protocols: ['wamp.2.json', 'wamp.2.msgpack'] }));
    expect(client.protocol).toBe('wamp.2.json');
  });

  it('refuses clients without a shared subprotocol when one is required', async () => {
    const server = await echoServer({ protocols: ['graphql-ws'], requireProtocol: true });
    await expect(connectWebSocket(server.url, { protocols: ['other'] })).rejects.toBeInstanceOf(ConnectionError);
  });

  it('routes paths of one HTTP server to different listeners and 404s the rest', async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    const a = await listenWebSocket({ server: http, path: '/a' });
    const b = await listenWebSocket({ server: http, path: '/b' });
    cleanups.push(() => a.close(), () => b.close());
    a.onConnection((transport) => transport.write('from a'));
    b.onConnection((transport) => transport.write('from b'));
    expect(a.address.port).toBe(b.address.port);
    const clientB = track(await connectWebSocket(b.url));
    const clientA = track(await connectWebSocket(a.url));
    expect(await clientA.receive()).toBe('from a');
    expect(await clientB.receive()).toBe('from b');
    await expect(connectWebSocket(`ws://127.0.0.1:${a.address.port}/c`)).rejects.toThrow(/404|Unexpected server response/);
  });

  it('lets an upgrade hook refuse by origin', async () => {
    const server = await echoServer({
      verifyUpgrade: (request) => (request.headers.origin === 'https://good.example' ? true : { status: 403, message: 'Bad Origin' }),
    });
    await expect(connectWebSocket(server.url, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(/403/);
    const client = track(await connectWebSocket(server.url, { headers: { origin: 'https://good.example' } }));
    expect(client.state).toBe('open');
  });

  it('closes with 1009 when a message exceeds maxPayload, and keeps serving others', async () => {
    const server = await echoServer({ maxPayload: 1024 });
    const big = track(await connectWebSocket(server.url));
    const small = track(await connectWebSocket(server.url));
    big.write('x'.repeat(4096));
    const info = await big.closed;
    expect(info.code).toBe(CLOSE_MESSAGE_TOO_BIG);
    await small.send('still here');
    expect(await small.receive()).toBe('still here');
  });

  it('ends iteration and rejects writes once the server goes away', async () => {
    const server = await echoServer();
    const client = track(await connectWebSocket(server.url));
    await server.close();
    const info = await client.closed;
    expect(info.code).toBe(CLOSE_GOING_AWAY);
    expect(await client.receive()).toBeUndefined();
    expect(() => client.write('late')).toThrow(ConnectionError);
  });

  it('serves wss:// when given TLS options', async () => {
    const { cert, key } = selfSignedCertificate();
    const server = await echoServer({ tls: { cert, key } });
    expect(server.url).toMatch(/^wss:\/\//);
    await expect(connectWebSocket(server.url)).rejects.toBeInstanceOf(ConnectionError);
    const client = track(await connectWebSocket(server.url, { tls: { ca: cert } }));
    await client.send('over tls');
    expect(await client.receive()).toBe('over tls');
  });

  it('reports a refused connection as ConnectionError', async () => {
    const server = await echoServer();
    const url = server.url;
    await server.close();
    await expect(connectWebSocket(url)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('applies write backpressure: send waits while the peer does not read', async () => {
    const listener = await listenWebSocket();
    cleanups.push(() => listener.close());
    const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve));
    const client = track(await connectWebSocket(listener.url, { writeHighWaterMark: 64 * 1024 }));
    const server = await accepted;
    // The server transport stops reading once its queue is full, so the client's buffer grows.
    const chunk = 'y'.repeat(64 * 1024);
    let writesBeforeBackpressure = 0;
    while (client.write(chunk)) writesBeforeBackpressure++;
    expect(client.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
    const drained = client.drained();
    let received = 0;
    while (received <= writesBeforeBackpressure) {
      await server.receive();
      received++;
    }
    await drained;
    expect(client.bufferedAmount).toBeLessThan(64 * 1024);
  });
});

describe('WebSocket protocol violations', () => {
  it('surfaces a malformed frame from the peer as ProtocolError with the close code ws sent', async () => {
    const { createServer: createTcpServer } = await import('node:net');
    const { createHash } = await import('node:crypto');
    // A raw server that completes the handshake, then sends a frame with a reserved opcode.
    const server = createTcpServer((socket) => {
      socket.once('data', (request) => {
        const key = /sec-websocket-key: (.+)\r\n/i.exec(request.toString())?.[1] ?? '';
        const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(Buffer.from([0x83, 0x00]));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const client = await connectWebSocket(`ws://127.0.0.1:${port}/`);
    const info = await client.closed;
    expect(info.code).toBe(1002);
    expect(info.wasClean).toBe(false);
    expect(info.error?.name).toBe('ProtocolError');
  });

  it('hands queued connections to a late handler with their request', async () => {
    const listener = await listenWebSocket();
    cleanups.push(() => listener.close());
    const client = track(await connectWebSocket(`${listener.url}/late?x=1`));
    await client.send('ping');
    const info = await new Promise<{ url: string | undefined }>((resolve) =>
      listener.onConnection((_transport, connection) => resolve({ url: connection.request?.url })),
    );
    expect(info.url).toBe('/late?x=1');
  });
});
