import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FaultProxy, serverFactory, withTeardown } from '../src/index.js';
import { connectRaw, connectUntilClosed, startRawServer } from './support/raw-socket.js';

const startServer = serverFactory(startRawServer, (s) => s.close());
const startProxy = serverFactory(FaultProxy.start, (p) => p.close());

async function setup(options: { echo?: boolean; allowHalfOpen?: boolean } = {}) {
  const server = await startServer(options);
  const proxy = await startProxy({ target: { host: '127.0.0.1', port: server.port } });
  return { server, proxy };
}

async function connectThrough(proxy: FaultProxy, server: Awaited<ReturnType<typeof startRawServer>>) {
  const client = await withTeardown(connectRaw(proxy.port), (c) => c.socket.destroy());
  const upstream = await server.nextConnection();
  return { client, upstream };
}

describe('FaultProxy', () => {
  it('listens on loopback port 0 and builds URLs', async () => {
    const { proxy } = await setup();
    expect(proxy.host).toBe('127.0.0.1');
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.url('ws', '/rpc')).toBe(`ws://127.0.0.1:${proxy.port}/rpc`);
    expect(proxy.address).toEqual({ host: '127.0.0.1', port: proxy.port });
  });

  it('forwards bytes both ways and counts connections', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    await proxy.waitForConnections(1);
    expect(proxy.connectionCount).toBe(1);
    expect(proxy.acceptedCount).toBe(1);

    client.socket.write('ping from client');
    expect((await upstream.waitForBytes(16)).toString()).toBe('ping from client');
    upstream.socket.write('pong from server');
    expect((await client.waitForBytes(16)).toString()).toBe('pong from server');
    expect(proxy.forwardedBytes).toBe(32);
  });

  it('forwards a half-close and the answer sent after it', async () => {
    const { server, proxy } = await setup({ allowHalfOpen: true });
    const { client, upstream } = await connectThrough(proxy, server);
    client.socket.end('last words');
    await upstream.ended;
    expect(upstream.received().toString()).toBe('last words');
    upstream.socket.end('reply after FIN');
    await client.ended;
    expect(client.received().toString()).toBe('reply after FIN');
    await proxy.waitForIdle();
    expect(proxy.connectionCount).toBe(0);
  });

  it('cutAll resets both sides at once and keeps accepting new connections', async () => {
    const { server, proxy } = await setup();
    const first = await connectThrough(proxy, server);
    const second = await connectThrough(proxy, server);
    await proxy.waitForConnections(2);

    proxy.cutAll();
    const [clientError, secondClientError] = await Promise.all([first.client.closed, second.client.closed]);
    await Promise.all([first.upstream.closed, second.upstream.closed]);
    expect(clientError).toMatchObject({ code: 'ECONNRESET' });
    expect(secondClientError).toMatchObject({ code: 'ECONNRESET' });
    await proxy.waitForIdle();

    const third = await connectThrough(proxy, server);
    third.client.socket.write('still works');
    expect((await third.upstream.waitForBytes(11)).toString()).toBe('still works');
  });

  it('cutAll surfaces promptly on a ws WebSocket client as close 1006', async () => {
    const wss = await withTeardown(
      new Promise<WebSocketServer>((resolve) => {
        const created: WebSocketServer = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(created));
      }),
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const { port } = wss.address() as { port: number };
    const proxy = await startProxy({ target: { host: '127.0.0.1', port } });

    const client = new WebSocket(proxy.url('ws'));
    client.on('error', () => undefined);
    await once(client, 'open');
    client.send('echo me');
    const [echoed] = (await once(client, 'message')) as [Buffer];
    expect(echoed.toString()).toBe('echo me');

    const closed = once(client, 'close') as Promise<[number, Buffer]>;
    proxy.cutAll();
    const [code] = await closed;
    expect(code).toBe(1006);
  });

  it('stall keeps bytes and resume delivers them in order', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.stall();
    const parts = ['one,', 'two,', 'three,', 'four'];
    for (const part of parts) {
      client.socket.write(part);
      await proxy.waitUntil((p) => p.pendingBytes > 0);
    }
    upstream.socket.write('down');
    const total = parts.join('').length + 4;
    await proxy.waitUntil((p) => p.pendingBytes === total);
    expect(upstream.received().length).toBe(0);
    expect(client.received().length).toBe(0);

    proxy.resume();
    expect((await upstream.waitForBytes(total - 4)).toString()).toBe(parts.join(''));
    expect((await client.waitForBytes(4)).toString()).toBe('down');
    expect(proxy.pendingBytes).toBe(0);
  });

  it('stall also holds a FIN until resume', async () => {
    const { server, proxy } = await setup({ allowHalfOpen: true });
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.stall();
    client.socket.end('bye');
    await proxy.waitUntil((p) => p.pendingBytes === 3);
    proxy.resume();
    await upstream.ended;
    expect(upstream.received().toString()).toBe('bye');
  });

  it('setDelay holds each chunk for the given time, in order', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.setDelay(120);
    const start = performance.now();
    client.socket.write('late');
    await upstream.waitForBytes(4);
    expect(performance.now() - start).toBeGreaterThanOrEqual(100);
    proxy.setDelay(0);
    client.socket.write('-now');
    expect((await upstream.waitForBytes(8)).toString()).toBe('late-now');
  });

  it('dropNext drops the next chunk in the chosen direction only', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.dropNext(1, 'downstream');
    client.socket.write('up');
    expect((await upstream.waitForBytes(2)).toString()).toBe('up');
    upstream.socket.write('lost');
    await proxy.waitUntil((p) => p.droppedChunks === 1);
    upstream.socket.write('kept');
    expect((await client.waitForBytes(4)).toString()).toBe('kept');
  });

  it('corruptNext flips every bit of exactly the next n bytes', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.corruptNext(3, 'upstream');
    client.socket.write('abcdef');
    const got = await upstream.waitForBytes(6);
    const sent = Buffer.from('abcdef');
    expect([...got]).toEqual([...sent].map((byte, i) => (i < 3 ? byte ^ 0xff : byte)));
    expect(proxy.corruptedBytes).toBe(3);
    client.socket.write('ghi');
    expect((await upstream.waitForBytes(9)).subarray(6).toString()).toBe('ghi');
  });

  it('closeAfterBytes delivers exactly n bytes, then closes both sides', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await connectThrough(proxy, server);
    proxy.closeAfterBytes(100);
    upstream.socket.write(Buffer.alloc(1000, 7));
    await client.closed;
    await upstream.closed;
    expect(client.received()).toEqual(Buffer.alloc(100, 7));
    await proxy.waitForIdle();
  });

  it('closeAfterBytes counts both directions of one connection', async () => {
    const { server, proxy } = await setup({ echo: true });
    proxy.closeAfterBytes(10);
    const client = await withTeardown(connectRaw(proxy.port), (c) => c.socket.destroy());
    client.socket.write('12345678');
    await client.closed;
    // 8 bytes up, then only 2 of the 8 echoed bytes fit in the budget
    expect(client.received().toString()).toBe('12');
  });

  it('refuseNew resets new connections without reaching the server, until switched off', async () => {
    const { server, proxy } = await setup();
    proxy.refuseNew(true);
    expect(await connectUntilClosed(proxy.port)).toMatchObject({ code: 'ECONNRESET' });
    expect(proxy.refusedCount).toBe(1);
    expect(server.connections).toHaveLength(0);

    proxy.refuseNew(false);
    const { client, upstream } = await connectThrough(proxy, server);
    client.socket.write('ok');
    expect((await upstream.waitForBytes(2)).toString()).toBe('ok');
  });

  it('resets the client when the target refuses the connection', async () => {
    const { server, proxy } = await setup();
    await server.close();
    await connectUntilClosed(proxy.port);
    await proxy.waitForIdle();
    expect(proxy.acceptedCount).toBe(1);
  });

  it('setTarget points new connections at another server', async () => {
    const { server, proxy } = await setup();
    const other = await startServer();
    proxy.setTarget({ host: '127.0.0.1', port: other.port });
    const client = await withTeardown(connectRaw(proxy.port), (c) => c.socket.destroy());
    const upstream = await other.nextConnection();
    client.socket.write('moved');
    expect((await upstream.waitForBytes(5)).toString()).toBe('moved');
    expect(server.connections).toHaveLength(0);
  });

  it('waitForConnections rejects with a clear message on timeout', async () => {
    const { proxy } = await setup();
    await expect(proxy.waitForConnections(1, 50)).rejects.toThrow(/1 connection\(s\) to the proxy/);
  });

  it('close resets open connections and stops listening', async () => {
    const { server, proxy } = await setup();
    const { client } = await connectThrough(proxy, server);
    await proxy.close();
    await client.closed;
    await expect(connectRaw(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
