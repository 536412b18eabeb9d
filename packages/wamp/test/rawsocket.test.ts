import { connect as netConnect, createServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { MessageTooLargeError } from '@rt/transport';
import { connect, decodeHandshake, encodeHandshake, RawSocketFramer, type Client, type SubscriptionEvent } from '../src/node.js';
import { Router } from '../src/router/index.js';
import { signal } from './helpers.js';

async function startRawRouter(): Promise<{ wsUrl: string; rawUrl: string; port: number }> {
  const router = new Router({ realms: ['realm1'] });
  const address = await router.listen({ host: '127.0.0.1', port: 0, rawSocketPort: 0 });
  useTeardown(() => router.close());
  return { wsUrl: address.url, rawUrl: address.rawSocketUrl as string, port: address.rawSocketPort as number };
}

async function joinRaw(url: string, serializer: 'json' | 'msgpack' | 'cbor'): Promise<Client> {
  const client = await connect(url, { realm: 'realm1', serializer });
  useTeardown(() => client.close());
  return client;
}

describe('RawSocket framing', () => {
  it('encodes and parses handshakes', () => {
    expect([...encodeHandshake(2, 2 ** 24)]).toEqual([0x7f, 0xf2, 0, 0]);
    expect([...encodeHandshake(1, 512)]).toEqual([0x7f, 0x01, 0, 0]);
    expect(decodeHandshake(new Uint8Array([0x7f, 0xf2, 0, 0]))).toEqual({ ok: true, serializerId: 2, maxLength: 2 ** 24 });
    expect(decodeHandshake(new Uint8Array([0x7f, 0x10, 0, 0]))).toEqual({ ok: false, error: 1 });
    expect(() => decodeHandshake(new Uint8Array([0x00, 0x12, 0, 0]))).toThrow();
  });

  it('reassembles frames split anywhere and answers pings', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (payloads, cuts) => {
      const pings: number[][] = [];
      const framer = new RawSocketFramer({ onPing: (p) => pings.push([...p]) });
      const stream = [...payloads.map((p) => framer.encode(p)), RawSocketFramer.frame(1, new Uint8Array([9]))];
      const bytes = new Uint8Array(stream.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const frame of stream) {
        bytes.set(frame, at);
        at += frame.length;
      }
      const frames: number[][] = [];
      let offset = 0;
      for (let i = 0; offset < bytes.length; i++) {
        const size = cuts[i % cuts.length] as number;
        framer.decode(bytes.subarray(offset, offset + size), { onFrame: (f) => frames.push([...f]), onOversize: () => undefined });
        offset += size;
      }
      expect(frames).toEqual(payloads.map((p) => [...p]));
      expect(pings).toEqual([[9]]);
    }));
  });

  it('rejects oversize frames and unknown frame types', () => {
    const framer = new RawSocketFramer({ maxSize: 1024 });
    const sink = { onFrame: () => undefined, onOversize: () => undefined };
    expect(() => framer.decode(new Uint8Array([0, 0, 0x10, 0]), sink)).toThrow(/exceeds/);
    expect(() => new RawSocketFramer().decode(new Uint8Array([7, 0, 0, 1, 0]), sink)).toThrow(/frame type/);
  });
});

describe.each(['json', 'msgpack', 'cbor'] as const)('RawSocket end to end (%s)', (serializer) => {
  it('calls and publishes between RawSocket and WebSocket clients', async () => {
    const { wsUrl, rawUrl } = await startRawRouter();
    const raw = await joinRaw(rawUrl, serializer);
    const ws = await joinRaw(wsUrl, serializer);
    await raw.register('com.raw.double', ({ args }) => (args[0] as number) * 2);
    expect((await ws.call('com.raw.double', [21])).args).toEqual([42]);
    const got = signal<SubscriptionEvent>();
    await raw.subscribe('com.raw.news', (event) => got.resolve(event));
    await ws.publish('com.raw.news', ['big'], { kwargs: { n: 2 ** 40 }, acknowledge: true });
    expect(await got.promise).toMatchObject({ args: ['big'], kwargs: { n: 2 ** 40 } });
  });

  it('answers a RawSocket ping with a pong', async () => {
    const { port } = await startRawRouter();
    const socket = netConnect({ host: '127.0.0.1', port });
    useTeardown(() => socket.destroy());
    const received: Buffer[] = [];
    const pong = signal();
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const all = Buffer.concat(received);
      if (all.length >= 4 + 7) pong.resolve();
    });
    socket.write(encodeHandshake({ json: 1, msgpack: 2, cbor: 3 }[serializer], 65536));
    socket.write(RawSocketFramer.frame(1, new Uint8Array([1, 2, 3])));
    await pong.promise;
    const all = Buffer.concat(received);
    expect(all[0]).toBe(0x7f);
    expect([...all.subarray(4, 11)]).toEqual([2, 0, 0, 3, 1, 2, 3]);
  });
});

it('refuses an unsupported RawSocket serializer', async () => {
  const { port } = await startRawRouter();
  const socket = netConnect({ host: '127.0.0.1', port });
  useTeardown(() => socket.destroy());
  const reply = signal<Buffer>();
  socket.on('data', (chunk: Buffer) => reply.resolve(chunk));
  socket.write(new Uint8Array([0x7f, 0xf5, 0, 0]));
  expect([...(await reply.promise)]).toEqual([0x7f, 0x10, 0, 0]);
});

describe('RawSocket length negotiation', () => {
  it("rejects a call larger than the router's announced maximum", async () => {
    const router = new Router({ realms: ['realm1'] });
    const address = await router.listen({ host: '127.0.0.1', port: 0, rawSocketPort: 0, maxPayload: 1024 });
    useTeardown(() => router.close());
    const client = await joinRaw(address.rawSocketUrl as string, 'json');
    await expect(client.call('com.raw.big', ['x'.repeat(2000)])).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(client.call('wamp.session.count')).resolves.toMatchObject({ args: [1] });
  });

  it('ends the session of a client that cannot take an event', async () => {
    const { rawUrl, wsUrl } = await startRawRouter();
    const small = await connect(rawUrl, { realm: 'realm1', maxMessageLength: 2048 });
    useTeardown(() => small.close());
    const publisher = await joinRaw(wsUrl, 'json');
    const left = signal<{ reason: string; willReconnect: boolean }>();
    small.events.on('leave', (info) => left.resolve(info));
    await small.subscribe('com.raw.big', () => undefined);
    await publisher.publish('com.raw.big', ['y'.repeat(4000)], { acknowledge: true });
    expect((await left.promise).willReconnect).toBe(false);
    await expect(publisher.call('wamp.session.count')).resolves.toMatchObject({ args: [1] });
  });
});

describe('RawSocket keepalive', () => {
  it('drops a router that never answers pings', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write(encodeHandshake(1, 2 ** 24));
        socket.on('data', (chunk: Buffer) => {
          // Answer HELLO with WELCOME, then stay silent (never PONG).
          const text = chunk.subarray(4).toString();
          if (text.startsWith('[1,')) {
            const welcome = Buffer.from(JSON.stringify([2, 1, { roles: { dealer: {} } }]));
            socket.write(RawSocketFramer.frame(0, welcome));
          }
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    useTeardown(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
    const port = (server.address() as { port: number }).port;
    const client = await connect(`tcp://127.0.0.1:${port}`, { realm: 'realm1', pingIntervalMs: 300 });
    const left = signal<{ reason: string; willReconnect: boolean }>();
    client.events.on('leave', (info) => left.resolve(info));
    expect((await left.promise).willReconnect).toBe(false);
    await client.waitUntilDone();
  });

  it('pings idle RawSocket clients from the router', async () => {
    const router = new Router({ realms: ['realm1'] });
    const address = await router.listen({ host: '127.0.0.1', port: 0, rawSocketPort: 0, rawSocketPingIntervalMs: 30 });
    useTeardown(() => router.close());
    const socket = netConnect({ host: '127.0.0.1', port: address.rawSocketPort as number });
    useTeardown(() => socket.destroy());
    const ping = signal<number[]>();
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 8) ping.resolve([...received.subarray(4, 8)]);
    });
    socket.write(encodeHandshake(1, 65536));
    expect(await ping.promise).toEqual([1, 0, 0, 0]);
  });
});
