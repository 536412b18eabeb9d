import { deferred, type Deferred } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { DDPClient, DDPError, InvocationFailedError, SimulationError, type CollectionEvent, type DDPDocument, type MethodStubContext, type StubCollection } from '../src/index.js';
import type { DDPServer } from '../src/server/index.js';
import { memoryClient, nextEvent, onCleanup, Table, testServer } from './helpers.js';

type Row = DDPDocument;

/** A server publishing `table` as `rows`. */
function rowsServer(table: Table): DDPServer {
  const { server } = testServer();
  server.publish('rows', function () {
    table.publishTo(this, 'rows');
  });
  return server;
}

/** Events of the `rows` collection, recorded from now on. */
function record(client: DDPClient): CollectionEvent[] {
  const events: CollectionEvent[] = [];
  client.getCollection('rows').onChange((event) => events.push(event));
  return events;
}

/** Resolves when `rows` emits an event matching `predicate`. */
function rowsEvent(client: DDPClient, predicate: (event: CollectionEvent) => boolean): Promise<CollectionEvent> {
  return new Promise((resolve) => {
    const off = client.getCollection('rows').onChange((event) => {
      if (!predicate(event)) return;
      off();
      resolve(event);
    });
  });
}

function plain(document: Row | undefined): Record<string, unknown> | undefined {
  return document ? { ...document } : undefined;
}

async function connected(server: DDPServer): Promise<{ client: DDPClient; cut: () => void }> {
  const { client, cut } = memoryClient(server);
  await client.connect();
  await client.subscribe('rows').wait();
  return { client, cut };
}

describe('method stubs (latency compensation)', () => {
  it('shows a stub insert at once and replaces it with the server version after updated', async () => {
    const table = new Table();
    const server = rowsServer(table);
    server.methods({
      addItem(id: string, name: string) {
        table.insert(id, { name, by: 'server' });
        return 'saved';
      },
    });
    const { client } = await connected(server);
    const seen: unknown[] = [];
    client.methods({
      addItem(this: MethodStubContext, id: string, name: string) {
        seen.push([this.isSimulation, this.userId]);
        this.collection('rows').insert({ _id: id, name, pending: true });
        return 'stub value';
      },
    });
    const events = record(client);
    const call = client.apply('addItem', ['x', 'Ada'], { returnStubValue: true });
    expect(seen).toEqual([[true, null]]);
    expect(call.stubValue).toBe('stub value');
    expect(plain(client.getCollection('rows').get('x'))).toEqual({ _id: 'x', name: 'Ada', pending: true });
    expect(await call).toBe('saved');
    await call.updated;
    expect(plain(client.getCollection('rows').get('x'))).toEqual({ _id: 'x', name: 'Ada', by: 'server' });
    expect(events).toEqual([
      { type: 'added', collection: 'rows', _id: 'x', fields: { name: 'Ada', pending: true } },
      { type: 'changed', collection: 'rows', _id: 'x', fields: { by: 'server' }, cleared: ['pending'] },
    ]);
  });

  it('reverts the stub writes of a method the server rejects', async () => {
    const table = new Table();
    table.insert('a', { name: 'A' });
    const server = rowsServer(table);
    server.methods({
      rename() {
        throw new DDPError('not-allowed', 'no renaming');
      },
    });
    const { client } = await connected(server);
    client.methods({
      rename(this: MethodStubContext, id: string, name: string) {
        const rows = this.collection('rows');
        rows.update(id, { name });
        rows.insert({ _id: 'log', about: id });
      },
    });
    const events = record(client);
    const call = client.call('rename', 'a', 'B');
    expect(client.getCollection('rows').get('a')?.['name']).toBe('B');
    await expect(call).rejects.toMatchObject({ error: 'not-allowed' });
    await call.updated;
    expect([...client.getCollection('rows').values()].map(plain)).toEqual([{ _id: 'a', name: 'A' }]);
    expect(events).toEqual([
      { type: 'changed', collection: 'rows', _id: 'a', fields: { name: 'B' }, cleared: [] },
      { type: 'added', collection: 'rows', _id: 'log', fields: { about: 'a' } },
      { type: 'changed', collection: 'rows', _id: 'a', fields: { name: 'A' }, cleared: [] },
      { type: 'removed', collection: 'rows', _id: 'log' },
    ]);
  });

  it('holds server data for stub-written documents until updated; other documents update at once', async () => {
    const table = new Table();
    table.insert('a', { status: 'idle' });
    table.insert('b', { status: 'idle' });
    const server = rowsServer(table);
    const gate = deferred<void>();
    server.methods({
      async start(id: string) {
        this.unblock();
        table.update(id, { status: 'running', by: 'server' });
        table.update('b', { status: 'touched' });
        await gate.promise;
        return 'started';
      },
    });
    const { client } = await connected(server);
    client.methods({
      start(this: MethodStubContext, id: string) {
        this.collection('rows').update(id, { status: 'starting' });
      },
    });
    const rows = client.getCollection('rows');
    const bTouched = rowsEvent(client, (event) => event._id === 'b');
    const call = client.call('start', 'a');
    let updated = false;
    void call.updated.then(() => {
      updated = true;
    });
    await bTouched;
    // The server's change to `a` came before the one to `b`, but the stub's version stays.
    expect(plain(rows.get('b'))).toEqual({ _id: 'b', status: 'touched' });
    expect(plain(rows.get('a'))).toEqual({ _id: 'a', status: 'starting' });
    expect(updated).toBe(false);
    const events = record(client);
    gate.resolve();
    expect(await call).toBe('started');
    await call.updated;
    expect(plain(rows.get('a'))).toEqual({ _id: 'a', status: 'running', by: 'server' });
    expect(events).toEqual([{ type: 'changed', collection: 'rows', _id: 'a', fields: { status: 'running', by: 'server' }, cleared: [] }]);
  });

  it('keeps a document two overlapping stubs wrote until both methods are done', async () => {
    const table = new Table();
    table.insert('a', { n: 0 });
    const server = rowsServer(table);
    const gates = new Map<string, Deferred<void>>([
      ['g1', deferred<void>()],
      ['g2', deferred<void>()],
    ]);
    server.methods({
      async bump(gate: string) {
        this.unblock();
        await gates.get(gate)?.promise;
        table.update('a', { n: Number(table.rows.get('a')?.['n']) + 1 });
      },
      noop() {
        return null;
      },
    });
    const { client } = await connected(server);
    client.methods({
      bump(this: MethodStubContext) {
        const rows: StubCollection<Row> = this.collection<Row>('rows');
        rows.update('a', { n: Number(rows.get('a')?.['n']) + 1, local: true });
      },
    });
    const rows = client.getCollection('rows');
    const events = record(client);
    const first = client.call('bump', 'g1');
    const second = client.call('bump', 'g2');
    expect(plain(rows.get('a'))).toEqual({ _id: 'a', n: 2, local: true });
    let firstUpdated = false;
    void first.updated.then(() => {
      firstUpdated = true;
    });

    gates.get('g1')?.resolve();
    await first;
    // Sent after the first result arrived: its result comes after the first call's `updated`.
    await client.call('noop');
    expect(plain(rows.get('a'))).toEqual({ _id: 'a', n: 2, local: true });
    expect(firstUpdated).toBe(false);

    gates.get('g2')?.resolve();
    await second;
    await second.updated;
    await first.updated;
    expect(plain(rows.get('a'))).toEqual({ _id: 'a', n: 2 });
    expect(events).toEqual([
      { type: 'changed', collection: 'rows', _id: 'a', fields: { n: 1, local: true }, cleared: [] },
      { type: 'changed', collection: 'rows', _id: 'a', fields: { n: 2 }, cleared: [] },
      { type: 'changed', collection: 'rows', _id: 'a', fields: {}, cleared: ['local'] },
    ]);
  });

  it('keeps stub writes across a reconnect until updated, and runs the stub once', async () => {
    const table = new Table();
    table.insert('other', { v: 1 });
    const server = rowsServer(table);
    const started = [deferred<void>(), deferred<void>()];
    const gates = [deferred<void>(), deferred<void>()];
    let serverRuns = 0;
    server.methods({
      async save(id: string) {
        this.unblock();
        const run = serverRuns;
        serverRuns += 1;
        started[run]?.resolve();
        await gates[run]?.promise;
        if (run === 1) table.insert(id, { saved: true });
        return run;
      },
    });
    onCleanup(() => gates[0]?.resolve());
    const { client, cut } = await connected(server);
    let stubRuns = 0;
    client.methods({
      save(this: MethodStubContext, id: string) {
        stubRuns += 1;
        this.collection('rows').insert({ _id: id, pending: true });
      },
    });
    const rows = client.getCollection('rows');
    const call = client.call('save', 'x');
    await started[0]?.promise;
    const lost = nextEvent(client, 'disconnected');
    cut();
    await lost;
    table.update('other', { v: 2 });
    const resynced = rowsEvent(client, (event) => event._id === 'other');
    await resynced;
    await started[1]?.promise;
    expect(plain(rows.get('x'))).toEqual({ _id: 'x', pending: true });
    gates[1]?.resolve();
    expect(await call).toBe(1);
    await call.updated;
    expect(plain(rows.get('x'))).toEqual({ _id: 'x', saved: true });
    expect(stubRuns).toBe(1);
    expect(serverRuns).toBe(2);
  });

  it('reverts the stub writes of a noRetry call lost with the connection once re-synced', async () => {
    const table = new Table();
    table.insert('other', { v: 1 });
    const server = rowsServer(table);
    const started = deferred<void>();
    const never = deferred<void>();
    onCleanup(() => never.resolve());
    server.methods({
      async create(id: string) {
        this.unblock();
        started.resolve();
        await never.promise;
        table.insert(id, { late: true });
      },
    });
    const { client, cut } = await connected(server);
    client.methods({
      create(this: MethodStubContext, id: string) {
        this.collection('rows').insert({ _id: id, pending: true });
        this.collection('rows').update('other', { v: 'stub' });
      },
    });
    const rows = client.getCollection('rows');
    const events = record(client);
    const call = client.apply('create', ['y'], { noRetry: true });
    await started.promise;
    const reverted = rowsEvent(client, (event) => event.type === 'removed' && event._id === 'y');
    cut();
    await expect(call).rejects.toBeInstanceOf(InvocationFailedError);
    // Failed, but the server's view is not known yet: the stub's writes stay.
    expect(plain(rows.get('y'))).toEqual({ _id: 'y', pending: true });
    table.update('other', { v: 3 });
    await reverted;
    expect([...rows.values()].map(plain)).toEqual([{ _id: 'other', v: 3 }]);
    expect(events).toEqual([
      { type: 'added', collection: 'rows', _id: 'y', fields: { pending: true } },
      { type: 'changed', collection: 'rows', _id: 'other', fields: { v: 'stub' }, cleared: [] },
      { type: 'removed', collection: 'rows', _id: 'y' },
      { type: 'changed', collection: 'rows', _id: 'other', fields: { v: 3 }, cleared: [] },
    ]);
  });

  it('throws on writes outside a simulation', async () => {
    const table = new Table();
    table.insert('a', { n: 1 });
    const server = rowsServer(table);
    server.methods({ keep: () => 'kept' });
    const { client } = await connected(server);
    let kept: StubCollection | undefined;
    client.methods({
      keep(this: MethodStubContext) {
        kept = this.collection('rows');
      },
    });
    expect(await client.call('keep')).toBe('kept');
    expect(kept).toBeDefined();
    expect(() => kept?.insert({ _id: 'b' })).toThrow(SimulationError);
    expect(() => kept?.update('a', { n: 2 })).toThrow(/only be written by a method stub/);
    expect(() => kept?.remove('a')).toThrow(SimulationError);
    expect(plain(client.getCollection('rows').get('a'))).toEqual({ _id: 'a', n: 1 });
    expect(() => client.methods({ keep() {} })).toThrow(/already defined/);
  });

  it('throwStubExceptions stops the call and undoes its writes; otherwise the server still runs it', async () => {
    const table = new Table();
    const server = rowsServer(table);
    let serverRuns = 0;
    server.methods({
      risky() {
        serverRuns += 1;
        return 'server ran';
      },
    });
    const { client } = await connected(server);
    client.methods({
      risky(this: MethodStubContext) {
        this.collection('rows').insert({ _id: 'tmp' });
        throw new Error('stub failed');
      },
    });
    const rows = client.getCollection('rows');
    const stopped = client.apply('risky', [], { throwStubExceptions: true });
    await expect(stopped).rejects.toThrow('stub failed');
    await expect(stopped.updated).rejects.toThrow('stub failed');
    expect(rows.has('tmp')).toBe(false);

    const reported = nextEvent(client, 'error');
    const call = client.call('risky');
    expect(rows.has('tmp')).toBe(true);
    expect((await reported)[0].message).toBe('stub failed');
    expect(await call).toBe('server ran');
    await call.updated;
    expect(rows.has('tmp')).toBe(false);
    expect(serverRuns).toBe(1);
  });

  it('runs only the stub of a call made inside a stub, as part of the outer call', async () => {
    const table = new Table();
    const server = rowsServer(table);
    let innerRuns = 0;
    server.methods({
      outer(id: string) {
        table.insert(id, { from: 'outer' });
      },
      inner() {
        innerRuns += 1;
      },
    });
    const { client } = await connected(server);
    let nested: Promise<unknown> | undefined;
    client.methods({
      outer(this: MethodStubContext, id: string) {
        nested = client.call('inner', id);
      },
      inner(this: MethodStubContext, id: string) {
        this.collection('rows').insert({ _id: id, from: 'inner stub' });
        this.collection('rows').insert({ _id: `${id}-extra` });
        return 'inner value';
      },
    });
    const rows = client.getCollection('rows');
    const call = client.call('outer', 'n1');
    expect(await nested).toBe('inner value');
    expect(plain(rows.get('n1'))).toEqual({ _id: 'n1', from: 'inner stub' });
    await call.updated;
    expect([...rows.values()].map(plain)).toEqual([{ _id: 'n1', from: 'outer' }]);
    expect(innerRuns).toBe(0);
  });

  it('works over a real WebSocket', async () => {
    const table = new Table();
    const server = rowsServer(table);
    server.methods({
      post(id: string, text: string) {
        table.insert(id, { text, at: new Date(7) });
      },
    });
    const { host, port } = await server.listen({ port: 0 });
    const client = new DDPClient(`ws://${host}:${port}/websocket`);
    onCleanup(() => client.disconnect());
    await client.connect();
    await client.subscribe('rows').wait();
    client.methods({
      post(this: MethodStubContext, id: string, text: string) {
        this.collection('rows').insert({ _id: id, text, sending: true });
      },
    });
    const rows = client.getCollection('rows');
    const call = client.call('post', 'm1', 'hi');
    expect(plain(rows.get('m1'))).toEqual({ _id: 'm1', text: 'hi', sending: true });
    await call.updated;
    expect(plain(rows.get('m1'))).toEqual({ _id: 'm1', text: 'hi', at: new Date(7) });
  });
});
