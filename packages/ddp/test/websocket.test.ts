import { createServer } from 'node:http';
import { useTeardown } from '@rt/test-harness';
import type { StandardWebSocketConstructor } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DDPClient } from '../src/index.js';
import { DDPServer, type DDPServerOptions } from '../src/server/index.js';

function startServer(options: DDPServerOptions = {}): DDPServer {
  const server = new DDPServer({ onError: () => undefined, ...options });
  server.methods({
    hello(name: string) {
      return { greeting: `hello ${name}`, at: new Date(42), from: this.connection.clientAddress ?? null };
    },
  });
  server.publish('numbers', function (count: number) {
    for (let index = 0; index < count; index += 1) this.added('numbers', String(index), { value: index });
    this.ready();
  });
  useTeardown(() => server.close());
  return server;
}

describe('DDP over WebSocket', () => {
  it('serves /websocket on its own port (port 0) to the client', async () => {
    const server = startServer();
    const { host, port } = await server.listen({ port: 0 });
    expect(port).toBeGreaterThan(0);
    const client = new DDPClient(`ws://${host}:${port}/websocket`);
    useTeardown(() => client.disconnect());
    await client.connect();
    expect(await client.call('hello', 'ws')).toEqual({ greeting: 'hello ws', at: new Date(42), from: '127.0.0.1' });
    await client.subscribe('numbers', 50).wait();
    expect(client.getCollection('numbers').size).toBe(50);
    expect(server.connectionCount).toBe(1);
  });

  it('shares an HTTP server, on the /websocket path only', async () => {
    const http = createServer((_request, response) => response.end('plain http'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    useTeardown(() => new Promise((resolve) => http.close(resolve)));
    const port = (http.address() as { port: number }).port;
    const server = startServer();
    await server.attach(http);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
    const client = new DDPClient(`http://127.0.0.1:${port}`, { WebSocket: WebSocket as unknown as StandardWebSocketConstructor });
    useTeardown(() => client.disconnect());
    await client.connect();
    expect(await client.call('hello', 'shared')).toMatchObject({ greeting: 'hello shared' });
    const wrongPath = new DDPClient(`ws://127.0.0.1:${port}/other`, { reconnect: false });
    await expect(wrongPath.connect()).rejects.toThrow();
  });

  it('trusts X-Forwarded-For only behind the configured number of proxies (httpForwardedCount)', async () => {
    class ProxiedWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' } });
      }
    }
    const addresses: unknown[] = [];
    for (const httpForwardedCount of [0, 1, 2, 3]) {
      const server = startServer({ httpForwardedCount });
      const { port } = await server.listen({ port: 0 });
      const client = new DDPClient(`ws://127.0.0.1:${port}/websocket`, {
        WebSocket: ProxiedWebSocket as unknown as StandardWebSocketConstructor,
        reconnect: false,
      });
      useTeardown(() => client.disconnect());
      await client.connect();
      addresses.push(((await client.call('hello', 'proxied')) as { from: unknown }).from);
    }
    // No proxy trusted: the socket's address. One proxy: the address it saw. Too few entries: unknown.
    expect(addresses).toEqual(['127.0.0.1', '198.51.100.2', '203.0.113.7', null]);
    expect(() => new DDPServer({ httpForwardedCount: -1 })).toThrow(RangeError);
  });

  it('accepts permessage-deflate on /websocket only with the compression option', async () => {
    const extensions: string[] = [];
    for (const compression of [{ threshold: 0 }, false]) {
      const server = startServer({ compression });
      const { port } = await server.listen({ port: 0 });
      const url = `ws://127.0.0.1:${port}/websocket`;
      const raw = new WebSocket(url); // ws offers permessage-deflate by default, as browsers do
      useTeardown(async () => raw.terminate());
      await new Promise((resolve) => raw.once('open', resolve));
      extensions.push(raw.extensions);
      const client = new DDPClient(url, { WebSocket: WebSocket as unknown as StandardWebSocketConstructor, reconnect: false });
      useTeardown(() => client.disconnect());
      await client.connect();
      await client.subscribe('numbers', 500).wait();
      expect(client.getCollection('numbers').get('499')).toEqual({ _id: '499', value: 499 });
    }
    expect(extensions[0]).toMatch(/^permessage-deflate/);
    expect(extensions[1]).toBe('');
  });

  it('offers permessage-deflate from the Node client only with its compression option', async () => {
    const negotiated: string[] = [];
    const server = startServer({
      compression: { threshold: 0 },
      onConnection: (connection) => negotiated.push(String(connection.httpHeaders['sec-websocket-extensions'] ?? '')),
    });
    const { port } = await server.listen({ port: 0 });
    for (const compression of [{ threshold: 0 }, undefined]) {
      const client = new DDPClient(`ws://127.0.0.1:${port}/websocket`, { reconnect: false, ...(compression ? { compression } : {}) });
      useTeardown(() => client.disconnect());
      await client.connect();
      await client.subscribe('numbers', 200).wait();
      expect(client.getCollection('numbers').size).toBe(200);
    }
    expect(negotiated[0]).toMatch(/^permessage-deflate/);
    expect(negotiated[1]).toBe('');
  });

  it('closes connections on server close; the client goes back to waiting', async () => {
    const server = startServer();
    const { port } = await server.listen({ port: 0 });
    const client = new DDPClient(`ws://127.0.0.1:${port}/websocket`, { reconnect: { minDelayMs: 1000 } });
    useTeardown(() => client.disconnect());
    await client.connect();
    const ended = client.disconnection();
    const waiting = new Promise<void>((resolve) => client.on('status', (status) => status.status === 'waiting' && resolve()));
    await server.close();
    expect((await ended).code).toBe(1001);
    await waiting;
    expect(client.status).toMatchObject({ status: 'waiting', retryCount: 1 });
  });
});
