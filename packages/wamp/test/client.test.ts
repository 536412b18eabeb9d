import { createServer } from 'node:http';
import { createMemoryPair, type Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ApplicationError, AuthError, ClientClosedError, connect, ErrorRegistry, jsonSerializer, MessageType, AbortError,
  type Client, type SubscriptionEvent, type WampMessage,
} from '../src/index.js';
import { Router } from '../src/router/index.js';
import { collector, signal } from './helpers.js';

/** A client joined to an in-memory router (no sockets). */
async function memoryClient(router: Router): Promise<Client> {
  const client = await connect('memory://', {
    realm: 'realm1',
    transport: async () => {
      const [a, b] = createMemoryPair();
      void router.attach(b, 'json');
      return a;
    },
  });
  useTeardown(() => client.close());
  return client;
}

/** A client talking to a scripted router: `script` gets each client message and the server side. */
async function scripted(onMessage: (message: WampMessage, server: Transport) => void): Promise<{ client: Promise<Client>; server: Transport }> {
  const [clientSide, server] = createMemoryPair();
  useTeardown(() => server.close());
  void (async () => {
    for await (const data of server) onMessage(jsonSerializer.deserialize(data), server);
  })();
  const client = connect('memory://', { realm: 'realm1', transport: async () => clientSide });
  return { client, server };
}

const send = (server: Transport, message: WampMessage): void => void server.write(jsonSerializer.serialize(message));
const welcome = (server: Transport): void => send(server, { type: MessageType.WELCOME, sessionId: 77, details: { roles: { dealer: {}, broker: {} } } });

describe('client', () => {
  it('works over an in-memory transport attached to the router', async () => {
    const router = new Router({ realms: ['realm1'] });
    const callee = await memoryClient(router);
    const caller = await memoryClient(router);
    await callee.register('com.mem.echo', ({ args }) => args[0]);
    const call = caller.call('com.mem.echo', ['hi']);
    expect(call.requestId).toBeGreaterThan(0);
    expect((await call).args).toEqual(['hi']);
  });

  it('speaks permessage-deflate with a router that accepts it (compression)', async () => {
    const router = new Router({ realms: ['realm1'] });
    useTeardown(() => router.close());
    const { url } = await router.listen({ compression: { threshold: 0 } });
    const raw = new WebSocket(url, 'wamp.2.json'); // ws offers permessage-deflate by default, as browsers do
    useTeardown(async () => raw.terminate());
    await new Promise((resolve) => raw.once('open', resolve));
    expect(raw.extensions).toMatch(/^permessage-deflate/);
    const callee = await connect(url, { realm: 'realm1', compression: true });
    const caller = await connect(url, { realm: 'realm1', compression: { threshold: 0 }, serializer: 'msgpack' });
    useTeardown(() => caller.close());
    useTeardown(() => callee.close());
    await callee.register('com.example.echo', ({ args }) => args[0]);
    const big = 'a compressible text '.repeat(2000);
    expect((await caller.call('com.example.echo', [big])).args).toEqual([big]);
  });

  it('serves WAMP on a path of an HTTP server the app owns', async () => {
    const http = createServer((_request, response) => response.end('the app'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    useTeardown(() => new Promise((resolve) => http.close(resolve)));
    const router = new Router({ realms: ['realm1'] });
    useTeardown(() => router.close());
    const { url, port } = await router.listen({ server: http, path: '/wamp' });
    expect(url).toBe(`ws://127.0.0.1:${port}/wamp`);
    expect(port).toBe((http.address() as { port: number }).port);
    const client = await connect(url, { realm: 'realm1' });
    useTeardown(() => client.close());
    await client.register('com.example.twice', ({ args }) => (args[0] as number) * 2);
    expect((await client.call('com.example.twice', [21])).args).toEqual([42]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('the app');
    await router.close();
    expect(http.listening).toBe(true);
  });

  it('cancels through call.cancel()', async () => {
    const router = new Router({ realms: ['realm1'] });
    const callee = await memoryClient(router);
    const caller = await memoryClient(router);
    const started = signal();
    await callee.register('com.mem.wait', () => {
      started.resolve();
      return new Promise(() => undefined);
    });
    const call = caller.call('com.mem.wait');
    await started.promise;
    call.cancel('skip');
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
  });

  it('reports handler errors and keeps delivering, several handlers per topic share an id', async () => {
    const router = new Router({ realms: ['realm1'] });
    const sub = await memoryClient(router);
    const pub = await memoryClient(router);
    const errors = collector<Error>(1);
    sub.events.on('error', (error) => errors.push(error));
    const first: unknown[] = [];
    const second = collector<unknown>(2);
    const id1 = await sub.subscribe('com.mem.t', ({ args }) => {
      first.push(args[0]);
      if (args[0] === 1) throw new Error('handler failed');
    });
    const id2 = await sub.subscribe('com.mem.t', ({ args }) => second.push(args[0]));
    expect(id2).toBe(id1);
    await pub.publish('com.mem.t', [1], { acknowledge: true });
    await pub.publish('com.mem.t', [2], { acknowledge: true });
    expect(await second.done).toEqual([1, 2]);
    expect((await errors.done)[0]?.message).toBe('handler failed');
    expect(first).toEqual([1, 2]);
  });

  it('closes once, and then rejects new work', async () => {
    const router = new Router({ realms: ['realm1'] });
    const client = await memoryClient(router);
    await Promise.all([client.close(), client.close()]);
    expect(client.closed).toBe(true);
    await expect(client.register('com.x', () => 1)).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.publish('com.x')).rejects.toBeInstanceOf(ClientClosedError);
    await client.waitUntilDone();
  });

  it('answers a router protocol violation with ABORT and rejects pending calls', async () => {
    const aborted = signal<WampMessage>();
    const { client } = await scripted((message, server) => {
      if (message.type === MessageType.HELLO) welcome(server);
      else if (message.type === MessageType.CALL) server.write('[50, "not-an-id", {}]');
      else if (message.type === MessageType.ABORT) aborted.resolve(message);
    });
    const c = await client;
    await expect(c.call('com.x')).rejects.toBeInstanceOf(ClientClosedError);
    expect(await aborted.promise).toMatchObject({ reason: 'wamp.error.protocol_violation' });
    await c.waitUntilDone();
  });

  it('turns ABORT during the join into typed errors', async () => {
    const refused = await scripted((message, server) => {
      if (message.type === MessageType.HELLO) send(server, { type: MessageType.ABORT, details: { message: 'go away' }, reason: 'wamp.error.no_such_realm' });
    });
    const error = await refused.client.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe('wamp.error.no_such_realm: go away');
    const denied = await scripted((message, server) => {
      if (message.type === MessageType.HELLO) send(server, { type: MessageType.ABORT, details: {}, reason: 'wamp.error.authentication_failed' });
    });
    await expect(denied.client).rejects.toBeInstanceOf(AuthError);
  });

  it('answers INVOCATION for an unknown registration with an error', async () => {
    const answered = signal<WampMessage>();
    const { client, server } = await scripted((message, s) => {
      if (message.type === MessageType.HELLO) welcome(s);
      else if (message.type === MessageType.ERROR) answered.resolve(message);
    });
    await client;
    send(server, { type: MessageType.INVOCATION, requestId: 5, registrationId: 999, details: {} });
    expect(await answered.promise).toMatchObject({ requestType: MessageType.INVOCATION, requestId: 5, error: 'wamp.error.no_such_registration' });
  });

  it('rejects invalid URIs locally', async () => {
    const router = new Router({ realms: ['realm1'] });
    const client = await memoryClient(router);
    await expect(client.call('bad uri')).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(client.register('com..x', () => 1)).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(client.subscribe('com.#', () => undefined)).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
  });
});

describe('ErrorRegistry', () => {
  it('prefers exact URIs, then the longest pattern', () => {
    class A extends ApplicationError {}
    class B extends ApplicationError {}
    class C extends ApplicationError {}
    const registry = new ErrorRegistry();
    registry.register('com.app.*', A);
    registry.register('com.app.db.*', B);
    registry.register('com.app.db.gone', C);
    expect(registry.create('com.app.db.gone', {})).toBeInstanceOf(C);
    expect(registry.create('com.app.db.locked', {})).toBeInstanceOf(B);
    expect(registry.create('com.app.other', {})).toBeInstanceOf(A);
    const plain = registry.create('org.x', { args: ['why'], kwargs: { k: 1 } });
    expect(plain).toBeInstanceOf(ApplicationError);
    expect(plain).toMatchObject({ uri: 'org.x', args: ['why'], kwargs: { k: 1 }, message: 'org.x: why' });
    expect(registry.create('wamp.error.canceled', {}).constructor.name).toBe('CanceledError');
  });
});

it('delivers the events of a subscription in publication order', async () => {
  const router = new Router({ realms: ['realm1'] });
  const sub = await memoryClient(router);
  const pub = await memoryClient(router);
  const got = collector<SubscriptionEvent>(20);
  await sub.subscribe('com.mem.order', async (event) => {
    await Promise.resolve();
    got.push(event);
  });
  for (let i = 0; i < 20; i++) await pub.publish('com.mem.order', [i]);
  expect((await got.done).map((e) => e.args[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
});
