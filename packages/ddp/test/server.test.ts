import { deferred } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { DDPError } from '../src/server/index.js';
import { rawPeer, testServer } from './helpers.js';

describe('DDPServer handshake', () => {
  it('answers connect with a fresh session id', async () => {
    const { server } = testServer();
    const peer = rawPeer(server);
    const connected = await peer.handshake();
    expect(connected['session']).toMatch(/^[0-9A-Za-z]{17}$/);
    const other = await rawPeer(server).handshake();
    expect(other['session']).not.toBe(connected['session']);
  });

  it('sends failed with a better version and closes when the client proposes a worse one', async () => {
    const { server } = testServer();
    const peer = rawPeer(server);
    peer.send({ msg: 'connect', version: 'pre1', support: ['1', 'pre1'] });
    expect(await peer.next()).toEqual({ msg: 'failed', version: '1' });
    const info = await peer.transport.closed;
    expect(info.code).toBe(1000);
  });

  it('accepts the best shared version when the server speaks only older ones', async () => {
    const { server } = testServer({ versions: ['pre1'] });
    const peer = rawPeer(server);
    peer.send({ msg: 'connect', version: '1', support: ['1', 'pre2'] });
    expect(await peer.next()).toEqual({ msg: 'failed', version: 'pre1' });
    const second = rawPeer(server);
    second.send({ msg: 'connect', version: 'pre1', support: ['pre1'] });
    expect((await second.next())['msg']).toBe('connected');
  });

  it('refuses other messages before connect and a second connect', async () => {
    const { server } = testServer();
    const peer = rawPeer(server);
    peer.send({ msg: 'method', id: '1', method: 'x' });
    expect(await peer.next()).toEqual({
      msg: 'error',
      reason: 'Must connect first',
      offendingMessage: { msg: 'method', id: '1', method: 'x', params: [] },
    });
    await peer.handshake();
    peer.send({ msg: 'connect', version: '1', support: ['1'] });
    const error = await peer.expect('error');
    expect(error['reason']).toBe('Already connected');
  });

  it('answers ping with pong, echoing the id', async () => {
    const { server } = testServer();
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'ping', id: 'abc' });
    expect(await peer.expect('pong')).toEqual({ msg: 'pong', id: 'abc' });
    peer.send({ msg: 'ping' });
    expect(await peer.expect('pong')).toEqual({ msg: 'pong' });
  });

  it('pings an idle client and drops one that never answers', async () => {
    const { server } = testServer({ heartbeatIntervalMs: 30, heartbeatTimeoutMs: 30 });
    const peer = rawPeer(server);
    await peer.handshake();
    expect(await peer.expect('ping')).toEqual({ msg: 'ping' });
    const info = await peer.transport.closed;
    expect(info.wasClean).toBe(false);
  });

  it('keeps a client that answers pings', async () => {
    const { server } = testServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 2000 });
    const peer = rawPeer(server);
    await peer.handshake();
    for (let round = 0; round < 4; round += 1) {
      await peer.expect('ping');
      peer.send({ msg: 'pong' });
    }
    expect(peer.transport.state).toBe('open');
  });

  it('sends no pings to pre1 clients', async () => {
    const { server } = testServer({ heartbeatIntervalMs: 10, heartbeatTimeoutMs: 10 });
    const peer = rawPeer(server);
    await peer.handshake('pre1', ['pre1']);
    server.methods({ later: () => new Promise((resolve) => setTimeout(() => resolve('done'), 80)) });
    peer.send({ msg: 'method', id: 'm', method: 'later' });
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: 'm', result: 'done' });
    expect(peer.pending.filter((message) => message['msg'] === 'ping')).toEqual([]);
  });
});

describe('DDPServer methods', () => {
  it('returns results as EJSON, then updated', async () => {
    const { server } = testServer();
    server.methods({
      add(a: number, b: number) {
        return a + b;
      },
      when(date: Date) {
        return { date, next: new Date(date.getTime() + 1000) };
      },
      nothing() {},
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: '1', method: 'add', params: [2, 3] });
    expect(await peer.next()).toEqual({ msg: 'result', id: '1', result: 5 });
    expect(await peer.next()).toEqual({ msg: 'updated', methods: ['1'] });
    peer.send({ msg: 'method', id: '2', method: 'when', params: [{ $date: 1000 }] });
    expect(await peer.next()).toEqual({ msg: 'result', id: '2', result: { date: { $date: 1000 }, next: { $date: 2000 } } });
    peer.send({ msg: 'method', id: '3', method: 'nothing' });
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: '3' });
  });

  it('sends DDPError details, hides other errors and reports them', async () => {
    const { server, errors } = testServer();
    server.methods({
      refuse() {
        throw new DDPError('not-allowed', 'No way', { hint: 1 });
      },
      crash() {
        throw new Error('secret database detail');
      },
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: 'a', method: 'refuse' });
    expect(await peer.expect('result')).toEqual({
      msg: 'result',
      id: 'a',
      error: { error: 'not-allowed', reason: 'No way', details: { hint: 1 }, message: 'No way [not-allowed]', errorType: 'Meteor.Error' },
    });
    peer.send({ msg: 'method', id: 'b', method: 'crash' });
    const result = await peer.expect('result');
    expect(result['error']).toMatchObject({ error: 500, reason: 'Internal server error' });
    expect(JSON.stringify(result)).not.toContain('secret');
    expect(errors).toHaveLength(1);
    peer.send({ msg: 'method', id: 'c', method: 'missing' });
    expect(await peer.expect('result')).toMatchObject({ id: 'c', error: { error: 404, reason: "Method 'missing' not found" } });
    expect(await peer.expect('updated')).toBeTruthy();
  });

  it('answers with an internal error when the result cannot be carried as EJSON', async () => {
    const { server, errors } = testServer();
    server.methods({ big: () => 10n });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: 'x', method: 'big' });
    expect(await peer.expect('result')).toMatchObject({ id: 'x', error: { error: 500 } });
    expect(errors).toHaveLength(1);
  });

  it('runs one message at a time per connection unless the method unblocks', async () => {
    const { server } = testServer();
    const release = deferred<void>();
    const order: string[] = [];
    server.methods({
      async slow() {
        order.push('slow start');
        await release.promise;
        order.push('slow end');
      },
      async slowUnblocked() {
        this.unblock();
        await release.promise;
        order.push('unblocked end');
      },
      fast() {
        order.push('fast');
      },
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: '1', method: 'slow' });
    peer.send({ msg: 'method', id: '2', method: 'fast' });
    // Pings bypass the queue: once the pong is back, 'fast' has arrived and is waiting.
    peer.send({ msg: 'ping', id: 'probe' });
    await peer.expect('pong');
    expect(order).toEqual(['slow start']);
    release.resolve();
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: '1' });
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: '2' });
    expect(order).toEqual(['slow start', 'slow end', 'fast']);

    const second = deferred<void>();
    server.methods({
      async waitSecond() {
        this.unblock();
        await second.promise;
      },
    });
    peer.send({ msg: 'method', id: '3', method: 'waitSecond' });
    peer.send({ msg: 'method', id: '4', method: 'fast' });
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: '4' });
    second.resolve();
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: '3' });
  });

  it('sends updated only once declared writes are committed', async () => {
    const { server } = testServer();
    const commit = deferred<() => void>();
    server.methods({
      write() {
        const pending = this.beginWrite();
        commit.resolve(() => pending.committed());
        return 'written';
      },
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: 'w', method: 'write' });
    expect(await peer.next()).toEqual({ msg: 'result', id: 'w', result: 'written' });
    peer.send({ msg: 'ping', id: 'p' });
    expect(await peer.next()).toEqual({ msg: 'pong', id: 'p' });
    (await commit.promise)();
    expect(await peer.next()).toEqual({ msg: 'updated', methods: ['w'] });
  });

  it('exposes the connection, userId and randomSeed to methods', async () => {
    const { server } = testServer();
    server.methods({
      who() {
        return { userId: this.userId, address: this.connection.clientAddress, seed: this.randomSeed ?? null, version: this.connection.version };
      },
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'method', id: '1', method: 'who', randomSeed: 'seed' });
    expect(await peer.expect('result')).toEqual({
      msg: 'result',
      id: '1',
      result: { userId: null, address: '127.0.0.1', seed: 'seed', version: '1' },
    });
  });
});

describe('DDPServer publications', () => {
  it('sends added, changed, removed and ready, and nosub on unsub', async () => {
    const { server } = testServer();
    const stopped = deferred<void>();
    server.publish('items', function (prefix: string) {
      this.added('items', 'a', { name: `${prefix}-a`, at: new Date(5) });
      this.added('items', 'b', { name: `${prefix}-b` });
      this.ready();
      this.changed('items', 'a', { name: 'renamed', at: undefined });
      this.removed('items', 'b');
      this.onStop(() => stopped.resolve());
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 's1', name: 'items', params: ['x'] });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'items', id: 'a', fields: { name: 'x-a', at: { $date: 5 } } });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'items', id: 'b', fields: { name: 'x-b' } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['s1'] });
    expect(await peer.next()).toEqual({ msg: 'changed', collection: 'items', id: 'a', fields: { name: 'renamed' }, cleared: ['at'] });
    expect(await peer.next()).toEqual({ msg: 'removed', collection: 'items', id: 'b' });
    peer.send({ msg: 'unsub', id: 's1' });
    expect(await peer.next()).toEqual({ msg: 'removed', collection: 'items', id: 'a' });
    expect(await peer.next()).toEqual({ msg: 'nosub', id: 's1' });
    await stopped.promise;
  });

  it('answers unknown publications, handler errors and the subscription limit with nosub errors', async () => {
    const { server, errors } = testServer({ limits: { maxSubscriptions: 1 } });
    server.publish('fails', () => {
      throw new DDPError('denied', 'Not for you');
    });
    server.publish('crashes', async () => {
      await Promise.resolve();
      throw new TypeError('oops');
    });
    server.publish('ok', function () {
      this.ready();
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: '1', name: 'nope' });
    expect(await peer.next()).toMatchObject({ msg: 'nosub', id: '1', error: { error: 404, reason: "Subscription 'nope' not found" } });
    peer.send({ msg: 'sub', id: '2', name: 'fails' });
    expect(await peer.next()).toMatchObject({ msg: 'nosub', id: '2', error: { error: 'denied', reason: 'Not for you' } });
    peer.send({ msg: 'sub', id: '3', name: 'crashes' });
    expect(await peer.next()).toMatchObject({ msg: 'nosub', id: '3', error: { error: 500 } });
    expect(errors).toHaveLength(1);
    peer.send({ msg: 'sub', id: '4', name: 'ok' });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['4'] });
    peer.send({ msg: 'sub', id: '5', name: 'ok' });
    expect(await peer.next()).toMatchObject({ msg: 'nosub', id: '5', error: { error: 'too-many-subscriptions' } });
    peer.send({ msg: 'sub', id: '4', name: 'ok' });
    expect(await peer.next()).toMatchObject({ msg: 'error', reason: 'Duplicate subscription id' });
  });

  it('merges overlapping subscriptions field by field', async () => {
    const { server } = testServer();
    server.publish('left', function () {
      this.added('docs', 'x', { foo: 1, bar: 2 });
      this.ready();
    });
    server.publish('right', function () {
      this.added('docs', 'x', { foo: 1, baz: 3 });
      this.ready();
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 'L', name: 'left' });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'docs', id: 'x', fields: { foo: 1, bar: 2 } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['L'] });
    peer.send({ msg: 'sub', id: 'R', name: 'right' });
    expect(await peer.next()).toEqual({ msg: 'changed', collection: 'docs', id: 'x', fields: { baz: 3 } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['R'] });
    peer.send({ msg: 'unsub', id: 'L' });
    expect(await peer.next()).toEqual({ msg: 'changed', collection: 'docs', id: 'x', cleared: ['bar'] });
    expect(await peer.next()).toEqual({ msg: 'nosub', id: 'L' });
    peer.send({ msg: 'unsub', id: 'R' });
    expect(await peer.next()).toEqual({ msg: 'removed', collection: 'docs', id: 'x' });
    expect(await peer.next()).toEqual({ msg: 'nosub', id: 'R' });
  });

  it('runs universal publications for every connection', async () => {
    const { server } = testServer();
    server.publish(null, function () {
      this.added('settings', 'global', { theme: 'dark' });
    });
    const peer = rawPeer(server);
    await peer.handshake();
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'settings', id: 'global', fields: { theme: 'dark' } });
  });

  it('stops subscriptions and aborts their signal when the connection closes', async () => {
    const { server } = testServer();
    const aborted = deferred<boolean>();
    const closed = deferred<void>();
    server.publish('live', function () {
      this.signal.addEventListener('abort', () => aborted.resolve(true));
      this.connection.onClose(() => closed.resolve());
      this.ready();
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 's', name: 'live' });
    await peer.expect('ready');
    await peer.transport.close();
    expect(await aborted.promise).toBe(true);
    await closed.promise;
    await expect.poll(() => server.connectionCount, { timeout: 5000 }).toBe(0);
  });

  it('re-runs publications after setUserId and sends only the difference', async () => {
    const { server } = testServer();
    server.publish('view', function () {
      this.added('docs', 'public', { text: 'hello', viewer: this.userId ?? 'nobody' });
      if (this.userId) this.added('docs', 'private', { owner: this.userId });
      this.ready();
    });
    server.methods({
      become(userId: string | null) {
        this.setUserId(userId);
        return this.userId;
      },
    });
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 'v', name: 'view' });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'docs', id: 'public', fields: { text: 'hello', viewer: 'nobody' } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['v'] });
    peer.send({ msg: 'method', id: 'm1', method: 'become', params: ['ada'] });
    expect(await peer.next()).toEqual({ msg: 'changed', collection: 'docs', id: 'public', fields: { viewer: 'ada' } });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'docs', id: 'private', fields: { owner: 'ada' } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['v'] });
    expect(await peer.next()).toEqual({ msg: 'result', id: 'm1', result: 'ada' });
    expect(await peer.next()).toEqual({ msg: 'updated', methods: ['m1'] });
    peer.send({ msg: 'method', id: 'm2', method: 'become', params: [null] });
    expect(await peer.next()).toEqual({ msg: 'removed', collection: 'docs', id: 'private' });
    expect(await peer.next()).toEqual({ msg: 'changed', collection: 'docs', id: 'public', fields: { viewer: 'nobody' } });
  });

  it('calls onConnection after the handshake and lets the server close a connection', async () => {
    const connections: string[] = [];
    const { server } = testServer({ onConnection: (connection) => connections.push(connection.id) });
    server.methods({
      kick() {
        this.connection.close();
      },
    });
    const peer = rawPeer(server);
    const connected = await peer.handshake();
    expect(connections).toEqual([connected['session']]);
    peer.send({ msg: 'method', id: 'k', method: 'kick' });
    expect((await peer.transport.closed).code).toBe(1000);
  });

  it('publishes returned cursors and stops them with the subscription', async () => {
    const { server, errors } = testServer();
    const stopped: string[] = [];
    const cursor = (collectionName: string, ids: string[]) => ({
      collectionName,
      observeChanges(callbacks: { added(id: string, fields: Record<string, unknown>): void }) {
        for (const id of ids) callbacks.added(id, { from: collectionName });
        return { stop: () => stopped.push(collectionName) };
      },
    });
    server.publish('both', () => [cursor('left', ['a']), cursor('right', ['b'])]);
    server.publish('bad', () => 42);
    const peer = rawPeer(server);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 's', name: 'both' });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'left', id: 'a', fields: { from: 'left' } });
    expect(await peer.next()).toEqual({ msg: 'added', collection: 'right', id: 'b', fields: { from: 'right' } });
    expect(await peer.next()).toEqual({ msg: 'ready', subs: ['s'] });
    peer.send({ msg: 'unsub', id: 's' });
    await peer.expect('nosub');
    expect(stopped).toEqual(['left', 'right']);
    peer.send({ msg: 'sub', id: 'x', name: 'bad' });
    expect(await peer.expect('nosub')).toMatchObject({ id: 'x', error: { error: 500 } });
    expect(errors).toHaveLength(1);
  });
});

