import { AbortError, ConnectionError, TimeoutError, deferred } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { DDPError, SubscriptionError, VersionMismatchError, type CollectionEvent, type ConnectionStatus } from '../src/index.js';
import { memoryClient, Table, testServer } from './helpers.js';

describe('DDPClient connection', () => {
  it('connects, reports status and disconnects', async () => {
    const { server } = testServer();
    const { client } = memoryClient(server);
    const statuses: string[] = [];
    client.on('status', (status: ConnectionStatus) => statuses.push(status.status));
    expect(client.isConnected).toBe(false);
    await client.connect();
    expect(client.isConnected).toBe(true);
    expect(client.status).toEqual({ status: 'connected', connected: true, retryCount: 0 });
    expect(client.version).toBe('1');
    expect(client.sessionId).toMatch(/^[0-9A-Za-z]{17}$/);
    const ended = client.disconnection();
    await client.disconnect();
    expect((await ended).wasClean).toBe(true);
    expect(client.status.status).toBe('offline');
    expect(statuses).toEqual(['connecting', 'connected', 'offline']);
  });

  it('negotiates down to the server version', async () => {
    const { server } = testServer({ versions: ['pre1'] });
    const { client, connections } = memoryClient(server);
    await client.connect();
    expect(client.version).toBe('pre1');
    expect(connections()).toBe(2);
  });

  it('rejects connect with VersionMismatchError when no version is shared', async () => {
    const { server } = testServer({ versions: ['pre1'] });
    const { client } = memoryClient(server, { versions: ['1', 'pre2'] });
    const error = await client.connect().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(VersionMismatchError);
    expect((error as VersionMismatchError).serverVersion).toBe('pre1');
    expect(client.status.status).toBe('failed');
  });

  it('rejects connect with ConnectionError when the server cannot be reached', async () => {
    const { DDPClient } = await import('../src/index.js');
    const client = new DDPClient('ws://127.0.0.1:1/websocket', { connectTimeoutMs: 2000 });
    await expect(client.connect()).rejects.toBeInstanceOf(ConnectionError);
    expect(client.status.status).toBe('offline');
    await expect(client.call('x')).rejects.toBeInstanceOf(ConnectionError);
  });

  it('accepts http URLs as Meteor does', async () => {
    const { DDPClient } = await import('../src/index.js');
    expect(new DDPClient('https://example.com/app').url).toBe('wss://example.com/app/websocket');
    expect(new DDPClient('http://example.com').url).toBe('ws://example.com/websocket');
    expect(new DDPClient('ws://example.com/websocket').url).toBe('ws://example.com/websocket');
  });
});

describe('DDPClient methods', () => {
  it('resolves results with EJSON types and rejects with the server error', async () => {
    const { server } = testServer();
    server.methods({
      echo: (value: unknown) => value,
      fail() {
        throw new DDPError('bad-input', 'Not like that', { field: 'x' });
      },
    });
    const { client } = memoryClient(server);
    await client.connect();
    const value = { when: new Date(123), bytes: new Uint8Array([1, 2]), big: Infinity, pattern: /x/g };
    expect(await client.call('echo', value)).toEqual(value);
    const error = await client.call('fail').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(DDPError);
    expect(error).toMatchObject({ error: 'bad-input', reason: 'Not like that', details: { field: 'x' } });
    await expect(client.call('nope')).rejects.toMatchObject({ error: 404 });
  });

  it('queues calls made before connect and sends them once connected', async () => {
    const { server } = testServer();
    server.methods({ one: () => 1 });
    const { client } = memoryClient(server);
    const early = client.call('one');
    await client.connect();
    expect(await early).toBe(1);
  });

  it('resolves updated once the method writes are in the collection', async () => {
    const { server } = testServer();
    const table = new Table();
    const release = deferred<void>();
    server.publish('rows', function () {
      table.publishTo(this, 'rows');
    });
    server.methods({
      async insert(id: string) {
        const write = this.beginWrite();
        this.unblock();
        await release.promise;
        table.insert(id, { n: 1 });
        write.committed();
        return 'ok';
      },
    });
    const { client } = memoryClient(server);
    await client.connect();
    await client.subscribe('rows').wait();
    const rows = client.getCollection('rows');
    const call = client.apply('insert', ['a']);
    let updatedSeen = false;
    void call.updated.then(() => {
      updatedSeen = true;
      expect(rows.get('a')).toEqual({ _id: 'a', n: 1 });
    });
    expect(call.id).toMatch(/^[0-9A-Za-z]{17}$/);
    release.resolve();
    expect(await call).toBe('ok');
    await call.updated;
    expect(updatedSeen).toBe(true);
  });

  it('times out and aborts calls', async () => {
    const { server } = testServer();
    const never = deferred<void>();
    server.methods({
      async hang() {
        this.unblock();
        await never.promise;
      },
    });
    const { client } = memoryClient(server);
    await client.connect();
    const timed = client.apply('hang', [], { timeoutMs: 20 });
    await expect(timed).rejects.toBeInstanceOf(TimeoutError);
    await expect(timed.updated).rejects.toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const aborted = client.apply('hang', [], { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    never.resolve();
  });

  it('runs a wait call alone, after earlier calls and before later ones', async () => {
    const { server } = testServer();
    const log: string[] = [];
    const gate = deferred<void>();
    server.methods({
      async slow(name: string) {
        this.unblock();
        log.push(`start ${name}`);
        await gate.promise;
        log.push(`end ${name}`);
      },
      quick(name: string) {
        log.push(`quick ${name}`);
      },
    });
    const { client } = memoryClient(server);
    await client.connect();
    const first = client.call('slow', 'a');
    const waiting = client.apply('quick', ['w'], { wait: true });
    const after = client.call('quick', 'b');
    gate.resolve();
    await Promise.all([first, waiting, after]);
    expect(log).toEqual(['start a', 'end a', 'quick w', 'quick b']);
  });

  it('refuses parameters EJSON cannot carry', async () => {
    const { server } = testServer();
    const { client } = memoryClient(server);
    await client.connect();
    await expect(client.call('x', 1n)).rejects.toThrow(/bigint/);
    expect(() => client.subscribe('x', 1n)).toThrow(/bigint/);
  });
});

describe('DDPClient subscriptions and collections', () => {
  it('fills the collection, sets ready and emits events in order', async () => {
    const { server } = testServer();
    const table = new Table();
    table.insert('a', { name: 'A', tags: ['x'] });
    server.publish('rows', function () {
      table.publishTo(this, 'rows');
    });
    server.methods({ sync() {} });
    const { client } = memoryClient(server);
    await client.connect();
    const rows = client.getCollection('rows');
    const events: CollectionEvent[] = [];
    rows.onChange((event) => events.push(event));
    const subscription = client.subscribe('rows');
    expect(subscription.ready).toBe(false);
    await subscription.wait();
    expect(subscription.ready).toBe(true);
    expect(subscription.name).toBe('rows');
    expect(rows.size).toBe(1);
    const document = rows.get('a');
    expect(document).toEqual({ _id: 'a', name: 'A', tags: ['x'] });
    expect(Object.isFrozen(document)).toBe(true);
    expect(() => {
      (document as Record<string, unknown>)['name'] = 'changed';
    }).toThrow(TypeError);

    table.update('a', { name: 'B', tags: undefined, extra: new Date(7) });
    table.insert('b', { name: 'second' });
    table.remove('b');
    // The server answers in order: once this result is in, the changes above are too.
    await client.call('sync');
    expect(events).toEqual([
      { type: 'added', collection: 'rows', _id: 'a', fields: { name: 'A', tags: ['x'] } },
      { type: 'changed', collection: 'rows', _id: 'a', fields: { name: 'B', extra: new Date(7) }, cleared: ['tags'] },
      { type: 'added', collection: 'rows', _id: 'b', fields: { name: 'second' } },
      { type: 'removed', collection: 'rows', _id: 'b' },
    ]);
    expect(rows.get('a')).toEqual({ _id: 'a', name: 'B', extra: new Date(7) });
    expect([...rows.keys()]).toEqual(['a']);

    await subscription.stop();
    expect(subscription.stopped).toBe(true);
    expect(rows.size).toBe(0);
  });

  it('rejects wait() with SubscriptionError when the server refuses', async () => {
    const { server } = testServer();
    server.publish('secret', () => {
      throw new DDPError('forbidden', 'No access');
    });
    const { client } = memoryClient(server);
    await client.connect();
    const subscription = client.subscribe('secret', 1, 'two');
    const error = await subscription.wait().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SubscriptionError);
    expect(error).toMatchObject({ error: 'forbidden', reason: 'No access', subscriptionName: 'secret' });
    expect(subscription.error).toBe(error);
    expect(subscription.params).toEqual([1, 'two']);
    await expect(client.subscribe('missing').wait()).rejects.toMatchObject({ error: 404 });
  });

  it('delivers events through bounded queues', async () => {
    const { server } = testServer();
    const table = new Table();
    server.publish('rows', function () {
      table.publishTo(this, 'rows');
    });
    server.methods({
      add(count: number) {
        for (let index = 0; index < count; index += 1) table.insert(`r${table.rows.size}`, { index });
      },
    });
    const { client } = memoryClient(server);
    await client.connect();
    const rows = client.getCollection('rows');
    const queue = rows.getQueue();
    const small = rows.getQueue({ highWaterMark: 2 });
    const controller = new AbortController();
    const aborted = rows.getQueue({ signal: controller.signal });
    controller.abort();
    await client.subscribe('rows').wait();
    await client.call('add', 3);
    expect(await queue.get()).toMatchObject({ type: 'added', _id: 'r0' });
    const rest: string[] = [];
    for await (const event of queue) {
      rest.push(event._id);
      if (rest.length === 2) break;
    }
    expect(rest).toEqual(['r1', 'r2']);
    expect(queue.closed).toBe(true);
    expect(await small.get()).toMatchObject({ _id: 'r0' });
    expect(await small.get()).toMatchObject({ _id: 'r1' });
    await expect(small.get()).rejects.toMatchObject({ code: 'ERR_QUEUE_OVERFLOW' });
    await expect(aborted.get()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('keeps __proto__ and constructor fields as plain data', async () => {
    const { server } = testServer();
    server.publish('odd', function () {
      this.added('odd', 'x', JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}') as Record<string, unknown>);
      this.ready();
    });
    const { client } = memoryClient(server);
    await client.connect();
    await client.subscribe('odd').wait();
    const document = client.getCollection('odd').get('x') as Record<string, unknown>;
    expect(Object.getPrototypeOf(document)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(document, '__proto__')?.value).toEqual({ polluted: true });
    expect(document['constructor']).toBe('c');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('DDPClient login', () => {
  const users = new Map([['ada', { id: 'u-ada', password: 'lovelace' }]]);
  const tokens = new Map<string, string>();

  function authServer() {
    return testServer({
      async login(request) {
        if (request.kind === 'resume') {
          const userId = tokens.get(request.token);
          if (!userId) throw new DDPError(403, 'Token expired');
          return { userId };
        }
        if (request.kind !== 'password') throw new DDPError(400, 'Unsupported login');
        const user = users.get(request.user.username ?? '');
        const { createHash } = await import('node:crypto');
        const expected = createHash('sha256').update(user?.password ?? '').digest('hex');
        if (!user || typeof request.password === 'string' || request.password.digest !== expected) {
          throw new DDPError(403, 'Incorrect password');
        }
        const token = `token-${tokens.size}`;
        tokens.set(token, user.id);
        return { userId: user.id, token, tokenExpires: new Date(1e12) };
      },
    });
  }

  it('logs in with a password, then a token, and logs out', async () => {
    const { server } = authServer();
    server.methods({
      whoami() {
        return this.userId;
      },
    });
    server.publish('mine', function () {
      if (this.userId) this.added('mine', 'profile', { owner: this.userId });
      this.ready();
    });
    const { client } = memoryClient(server);
    await client.connect();
    await client.subscribe('mine').wait();
    const profile = client.getCollection('mine');
    expect(profile.size).toBe(0);
    await expect(client.loginWithPassword('ada', 'wrong')).rejects.toMatchObject({ error: 403, reason: 'Incorrect password' });
    const login = await client.loginWithPassword('ada', 'lovelace');
    expect(login).toEqual({ userId: 'u-ada', token: expect.stringMatching(/^token-/), tokenExpires: new Date(1e12) });
    expect(client.userId).toBe('u-ada');
    expect(await client.call('whoami')).toBe('u-ada');
    expect(profile.get('profile')).toEqual({ _id: 'profile', owner: 'u-ada' });
    await client.logout();
    expect(client.userId).toBeNull();
    expect(await client.call('whoami')).toBeNull();
    expect(profile.size).toBe(0);
    expect((await client.loginWithToken(login.token as string)).userId).toBe('u-ada');
  });
});

describe('DDPClient version loop guard', () => {
  it('fails instead of looping when a server keeps refusing the version it asked for', async () => {
    const { createMemoryPair } = await import('@rt/transport');
    const { DDPClient } = await import('../src/index.js');
    let attempts = 0;
    const client = new DDPClient('ws://liar/websocket', {
      transport: async () => {
        attempts += 1;
        const [clientEnd, serverEnd] = createMemoryPair();
        void serverEnd.receive().then(() => serverEnd.write(JSON.stringify({ msg: 'failed', version: 'pre1' })));
        return clientEnd;
      },
    });
    await expect(client.connect()).rejects.toBeInstanceOf(VersionMismatchError);
    expect(attempts).toBe(2);
    expect(client.status.status).toBe('failed');
  });
});
