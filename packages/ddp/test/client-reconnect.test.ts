import { ConnectionError, ReconnectPolicy, createMemoryPair, deferred, type Transport } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { DDPClient, DDPError, InvocationFailedError, type CollectionEvent, type ConnectionStatus } from '../src/index.js';
import { memoryClient, nextEvent, onCleanup, RawPeer, Table, testServer } from './helpers.js';

describe('DDPClient reconnect', () => {
  it('resubscribes with the same ids and emits only real differences', async () => {
    const { server } = testServer();
    const table = new Table();
    for (const id of ['a', 'b', 'c']) table.insert(id, { value: id, at: new Date(1) });
    const subscriptionIds: (string | undefined)[] = [];
    server.publish('rows', function () {
      subscriptionIds.push(this.subscriptionId);
      table.publishTo(this, 'rows');
    });
    const { client, cut } = memoryClient(server);
    await client.connect();
    const subscription = client.subscribe('rows');
    await subscription.wait();
    const rows = client.getCollection('rows');
    const events: CollectionEvent[] = [];
    rows.onChange((event) => events.push(event));
    const firstSession = client.sessionId;

    const lost = nextEvent(client, 'disconnected');
    cut();
    await lost;
    table.update('b', { value: 'B' });
    table.remove('c');
    table.insert('d', { value: 'd' });
    const synced = new Promise<void>((resolve) => rows.onChange(() => rows.has('d') && resolve()));
    await nextEvent(client, 'connected');
    await synced;

    expect(client.sessionId).not.toBe(firstSession);
    expect(subscriptionIds).toEqual([subscription.id, subscription.id]);
    expect(subscription.ready).toBe(true);
    expect(events).toEqual([
      { type: 'removed', collection: 'rows', _id: 'c' },
      { type: 'changed', collection: 'rows', _id: 'b', fields: { value: 'B' }, cleared: [] },
      { type: 'added', collection: 'rows', _id: 'd', fields: { value: 'd' } },
    ]);
    expect(new Map([...rows].map(([id, document]) => [id, { ...document }]))).toEqual(
      new Map([...table.rows].map(([id, row]) => [id, { _id: id, ...row }])),
    );
  });

  it('resends ordinary calls and fails noRetry calls that were in flight', async () => {
    const { server } = testServer();
    const runs = { plain: 0, once: 0 };
    const started = { plain: deferred<void>(), once: deferred<void>() };
    const gate = deferred<void>();
    server.methods({
      async plain() {
        this.unblock();
        runs.plain += 1;
        started.plain.resolve();
        if (runs.plain === 1) await gate.promise;
        return 'plain done';
      },
      async once() {
        this.unblock();
        runs.once += 1;
        started.once.resolve();
        await gate.promise;
        return 'once done';
      },
    });
    const { client, cut } = memoryClient(server);
    await client.connect();
    const plain = client.apply('plain');
    const once = client.apply('once', [], { noRetry: true });
    await Promise.all([started.plain.promise, started.once.promise]);
    cut();
    await expect(once).rejects.toBeInstanceOf(InvocationFailedError);
    await expect(once.updated).rejects.toBeInstanceOf(InvocationFailedError);
    expect(await plain).toBe('plain done');
    await plain.updated;
    gate.resolve();
    expect(runs).toEqual({ plain: 2, once: 1 });
  });

  it('logs in again with the resume token before resubscribing', async () => {
    const loginKinds: string[] = [];
    const { server } = testServer({
      login(request) {
        loginKinds.push(request.kind);
        if (request.kind === 'resume' && request.token === 'T1') return { userId: 'u1', token: 'T1' };
        if (request.kind === 'password') return { userId: 'u1', token: 'T1' };
        throw new DDPError(403, 'no');
      },
    });
    const seenUsers: (string | null)[] = [];
    server.publish('mine', function () {
      seenUsers.push(this.userId);
      if (this.userId) this.added('mine', 'doc', { owner: this.userId });
      this.ready();
    });
    const { client, cut } = memoryClient(server);
    await client.connect();
    await client.loginWithPassword('someone', 'secret');
    await client.subscribe('mine').wait();
    const mine = client.getCollection('mine');
    const events: CollectionEvent[] = [];
    mine.onChange((event) => events.push(event));
    const logins: string[] = [];
    client.on('login', (userId) => logins.push(userId));

    cut();
    await nextEvent(client, 'connected');
    expect(await client.call('login', { resume: 'T1' })).toMatchObject({ id: 'u1' });
    expect(loginKinds).toEqual(['password', 'resume', 'resume']);
    // The publication never ran without the user on the new connection: no flicker.
    expect(seenUsers).toEqual(['u1', 'u1']);
    expect(events).toEqual([]);
    expect(mine.get('doc')).toEqual({ _id: 'doc', owner: 'u1' });
    expect(client.userId).toBe('u1');
  });

  it('reports waiting with a retry count and time, then connects again', async () => {
    const { server } = testServer();
    const { client, cut } = memoryClient(server);
    await client.connect();
    const statuses: ConnectionStatus[] = [];
    client.on('status', (status) => statuses.push(status));
    cut();
    await nextEvent(client, 'connected');
    expect(statuses.map((status) => status.status)).toEqual(['waiting', 'connecting', 'connected']);
    expect(statuses[0]).toMatchObject({ retryCount: 1, connected: false });
    expect(statuses[0]?.retryTime).toBeGreaterThan(0);
    expect(statuses[0]?.reason).toBeInstanceOf(Error);
  });

  it('reconnect() skips the wait before the next attempt', async () => {
    const { server } = testServer();
    const { client, cut } = memoryClient(server, { reconnect: { minDelayMs: 60_000 } });
    await client.connect();
    const waiting = new Promise<void>((resolve) => client.on('status', (status) => status.status === 'waiting' && resolve()));
    cut();
    await waiting;
    expect(client.status.retryTime).toBeGreaterThan(Date.now() + 30_000);
    const connected = nextEvent(client, 'connected');
    client.reconnect();
    await connected;
    expect(client.isConnected).toBe(true);
  });

  it('accepts a ReconnectPolicy from @rt/transport', async () => {
    const { server } = testServer();
    const { client, cut } = memoryClient(server, { reconnect: new ReconnectPolicy({ initialDelayMs: 1, maxDelayMs: 5 }) });
    await client.connect();
    const first = client.sessionId;
    cut();
    await nextEvent(client, 'connected');
    expect(client.sessionId).not.toBe(first);
  });

  it('fails subscriptions still waiting when the client goes offline for good', async () => {
    const { server } = testServer();
    const gate = deferred<void>();
    server.publish('slow', async function () {
      await gate.promise;
      this.ready();
    });
    const { client, cut } = memoryClient(server, { reconnect: false });
    await client.connect();
    const subscription = client.subscribe('slow');
    const waiting = subscription.wait();
    cut();
    await expect(waiting).rejects.toBeInstanceOf(ConnectionError);
    expect(subscription.stopped).toBe(false);
    gate.resolve();
  });

  it('fails pending calls when the connection is lost and reconnect is off', async () => {
    const { server } = testServer();
    const started = deferred<void>();
    server.methods({
      async hang() {
        started.resolve();
        await new Promise(() => undefined);
      },
    });
    const { client, cut } = memoryClient(server, { reconnect: false });
    await client.connect();
    const call = client.call('hang');
    await started.promise;
    cut();
    await expect(call).rejects.toBeInstanceOf(ConnectionError);
    expect(client.status.status).toBe('offline');
  });
});

/** A client whose server side is driven by hand. */
function scriptedClient(options: ConstructorParameters<typeof DDPClient>[1] = {}): { client: DDPClient; peers: Promise<RawPeer>[] } {
  const peers: Promise<RawPeer>[] = [];
  const resolvers: ((peer: RawPeer) => void)[] = [];
  for (let index = 0; index < 4; index += 1) peers.push(new Promise((resolve) => resolvers.push(resolve)));
  let count = 0;
  const client = new DDPClient('ws://scripted/websocket', {
    reconnect: { minDelayMs: 1, baseDelayMs: 5, maxDelayMs: 10 },
    ...options,
    transport: async () => {
      const [clientEnd, serverEnd]: [Transport, Transport] = createMemoryPair();
      resolvers[count++]?.(new RawPeer(serverEnd));
      onCleanup(() => serverEnd.close());
      return clientEnd;
    },
  });
  onCleanup(() => client.disconnect());
  return { client, peers };
}

describe('DDPClient against a misbehaving server', () => {
  it('skips malformed messages and unknown ids, reporting them, and keeps going', async () => {
    const { client, peers } = scriptedClient();
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const connecting = client.connect();
    const peer = await peers[0]!;
    expect(await peer.next()).toEqual({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
    peer.send({ server_id: '0' });
    peer.send({ msg: 'connected', session: 'S1' });
    await connecting;
    const subscription = client.subscribe('items');
    const sub = await peer.expect('sub');
    peer.send('this is not json');
    peer.send({ msg: 'added', collection: 'items' });
    peer.send({ msg: 'changed', collection: 'items', id: 'ghost', fields: { a: 1 } });
    peer.send({ msg: 'removed', collection: 'items', id: 'ghost' });
    peer.send({ msg: 'result', id: 'no-such-call', result: 1 });
    peer.send({ msg: 'added', collection: 'items', id: 'x', fields: { when: { $date: 'bad' } } });
    peer.send({ msg: 'brandNew', stuff: 1 });
    peer.send({ msg: 'error', reason: 'you did something', offendingMessage: { msg: 'oops' } });
    peer.send({ msg: 'added', collection: 'items', id: 'ok', fields: { n: 1 } });
    peer.send({ msg: 'changed', collection: 'items', id: 'ok', fields: { m: 2 }, cleared: ['n'] });
    peer.send({ msg: 'ready', subs: [sub['id'], 'unknown-sub'] });
    await subscription.wait();
    expect(client.getCollection('items').get('ok')).toEqual({ _id: 'ok', m: 2 });
    expect(client.getCollection('items').size).toBe(1);
    expect(errors).toHaveLength(8);
    expect(errors.map((error) => error.constructor.name)).toContain('ServerProtocolError');
    expect(client.isConnected).toBe(true);
  });

  it('answers pings and reconnects when the server stops answering its pings', async () => {
    const { client, peers } = scriptedClient({ heartbeat: { intervalMs: 20, timeoutMs: 20 } });
    const connecting = client.connect();
    const first = await peers[0]!;
    await first.expect('connect');
    first.send({ msg: 'connected', session: 'S1' });
    await connecting;
    first.send({ msg: 'ping', id: 'hello' });
    expect(await first.expect('pong')).toEqual({ msg: 'pong', id: 'hello' });
    expect(await first.expect('ping')).toEqual({ msg: 'ping' });
    const second = await peers[1]!;
    expect(await second.expect('connect')).toEqual({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'], session: 'S1' });
  });

  it('resolves calls whose result arrived before the cut once the re-sync is done', async () => {
    const { client, peers } = scriptedClient();
    const connecting = client.connect();
    const first = await peers[0]!;
    await first.expect('connect');
    first.send({ msg: 'connected', session: 'S1' });
    await connecting;
    const call = client.call('write');
    const method = await first.expect('method');
    first.send({ msg: 'result', id: method['id'], result: 'ok' });
    expect(await call).toBe('ok');
    first.transport.abort();
    const second = await peers[1]!;
    await second.expect('connect');
    second.send({ msg: 'connected', session: 'S2' });
    await call.updated;
    expect(second.pending.filter((message) => message['msg'] === 'method')).toEqual([]);
  });

  it('sends the resume login first on reconnect, then the subscriptions, then held calls', async () => {
    const { client, peers } = scriptedClient();
    const connecting = client.connect();
    const first = await peers[0]!;
    await first.expect('connect');
    first.send({ msg: 'connected', session: 'S1' });
    await connecting;
    const login = client.loginWithToken('tok');
    const loginCall = await first.expect('method');
    first.send({ msg: 'result', id: loginCall['id'], result: { id: 'u1', token: 'tok2' } });
    first.send({ msg: 'updated', methods: [loginCall['id']] });
    expect(await login).toEqual({ userId: 'u1', token: 'tok2', tokenExpires: undefined });
    const subscription = client.subscribe('feed');
    const sub = await first.expect('sub');
    first.send({ msg: 'ready', subs: [sub['id']] });
    await subscription.wait();
    const held = client.call('later');
    await first.expect('method');
    first.transport.abort();

    const second = await peers[1]!;
    expect(await second.next()).toMatchObject({ msg: 'connect', session: 'S1' });
    second.send({ msg: 'connected', session: 'S2' });
    const resume = await second.next();
    expect(resume).toMatchObject({ msg: 'method', method: 'login', params: [{ resume: 'tok2' }] });
    expect(await second.next()).toEqual({ msg: 'sub', id: sub['id'], name: 'feed', params: [] });
    second.send({ msg: 'result', id: resume['id'], result: { id: 'u1', token: 'tok2' } });
    second.send({ msg: 'updated', methods: [resume['id']] });
    second.send({ msg: 'ready', subs: [sub['id']] });
    const resent = await second.next();
    expect(resent).toMatchObject({ msg: 'method', method: 'later' });
    second.send({ msg: 'result', id: resent['id'], result: 'done' });
    expect(await held).toBe('done');
  });

  it('does not restore a subscription stopped while offline; connect() waits for the next session', async () => {
    const { client, peers } = scriptedClient({ reconnect: { minDelayMs: 30, quickRetries: 5 } });
    const connecting = client.connect();
    const first = await peers[0]!;
    await first.expect('connect');
    first.send({ msg: 'connected', session: 'S1' });
    await connecting;
    const keep = client.subscribe('keep');
    const drop = client.subscribe('drop');
    await first.expect('sub');
    await first.expect('sub');
    const lost = nextEvent(client, 'disconnected');
    first.transport.abort();
    await lost;
    await drop.stop();
    expect(drop.stopped).toBe(true);
    const reconnected = client.connect();
    const second = await peers[1]!;
    await second.expect('connect');
    second.send({ msg: 'connected', session: 'S2' });
    await reconnected;
    expect(await second.next()).toEqual({ msg: 'sub', id: keep.id, name: 'keep', params: [] });
    second.send({ msg: 'ready', subs: [keep.id] });
    await keep.wait();
    expect(second.pending).toEqual([]);
  });
});

