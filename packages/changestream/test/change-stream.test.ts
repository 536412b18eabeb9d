import { FaultProxy, useTeardown } from '@rt/test-harness';
import { ClosedError } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { ChangeStreamError, ErrorCode, type ChangeStreamDocument, type ResumeToken } from '../src/index.js';
import { ChangeStreamServer } from '../src/server.js';
import { client, openStore, startServer, tempDir } from './helpers.js';

describe('ChangeStream against a real server', () => {
  it('iterates changes with for await, and closes when the loop breaks', async () => {
    const store = await openStore();
    const { url } = await startServer(store);
    const stream = client(url).db('app').collection('items').watch();
    await stream.ready();
    const items = store.db('app').collection('items');
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const seen: unknown[] = [];
    for await (const change of stream) {
      seen.push(change.documentKey?.['_id']);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(stream.alive).toBe(false);
    await expect(stream.next()).rejects.toBeInstanceOf(ClosedError);
  });

  it('hasNext waits for a change; close() ends a pending next()', async () => {
    const store = await openStore();
    const { url } = await startServer(store);
    const stream = client(url).watch([], { maxAwaitTimeMS: 100 });
    await stream.ready();
    const waiting = stream.hasNext();
    await store.db('app').collection('items').insertOne({ _id: 'x' });
    expect(await waiting).toBe(true);
    expect((await stream.tryNext())?.documentKey).toEqual({ _id: 'x' });
    const pending = stream.next();
    await stream.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
    expect(stream.alive).toBe(false);
    expect(await stream.hasNext()).toBe(false);
  });

  it('disposes with await using', async () => {
    const store = await openStore();
    const { url, server } = await startServer(store);
    const watcher = client(url);
    {
      await using stream = watcher.watch();
      await stream.ready();
      expect(server.connectionCount).toBe(1);
    }
    const fresh = watcher.watch();
    await fresh.ready();
    expect(fresh.alive).toBe(true);
  });

  it('ends after invalidate; startAfter its token continues after the drop', async () => {
    const store = await openStore();
    const { url } = await startServer(store);
    const items = store.db('app').collection('items');
    const watcher = client(url);
    const stream = watcher.db('app').collection('items').watch();
    await stream.ready();
    await items.insertOne({ _id: 1 });
    await items.drop();
    const types: string[] = [];
    for await (const change of stream) types.push(change.operationType);
    expect(types).toEqual(['insert', 'drop', 'invalidate']);
    expect(stream.alive).toBe(false);
    const after = watcher.db('app').collection('items').watch([], { startAfter: stream.resumeToken as ResumeToken });
    await items.insertOne({ _id: 2 });
    expect((await after.next()).documentKey).toEqual({ _id: 2 });
  });

  it('surfaces ChangeStreamHistoryLost without resuming', async () => {
    const store = await openStore();
    const { url } = await startServer(store, { retain: 4 });
    const items = store.db('app').collection('items');
    const watcher = client(url);
    const first = watcher.watch();
    await first.ready();
    await items.insertOne({ _id: 0 });
    await first.next();
    const old = first.resumeToken as ResumeToken;
    for (let index = 1; index < 20; index += 1) await items.insertOne({ _id: index });
    const late = watcher.watch([], { resumeAfter: old });
    const error = await late.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChangeStreamError);
    expect(error).toMatchObject({ code: ErrorCode.ChangeStreamHistoryLost, codeName: 'ChangeStreamHistoryLost' });
    expect(late.alive).toBe(false);
  });

  it('a quiet filtered stream still advances its resume token', async () => {
    const store = await openStore();
    const { url } = await startServer(store);
    const stream = client(url).watch([{ $match: { operationType: 'delete' } }], { maxAwaitTimeMS: 50 });
    await stream.ready();
    const before = stream.resumeToken as ResumeToken;
    await store.db('app').collection('items').insertMany([{ _id: 1 }, { _id: 2 }]);
    let token = before;
    while (token._data === before._data) {
      expect(await stream.tryNext()).toBeNull();
      token = stream.resumeToken as ResumeToken;
    }
    expect(token._data > before._data).toBe(true);
  });

  it('resumes through connection cuts without losing or repeating a change', async () => {
    const store = await openStore();
    const { port } = await startServer(store);
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port } });
    useTeardown(() => proxy.close());
    const stream = client(proxy.url('ws')).db('app').collection('items').watch<ChangeStreamDocument>([], { batchSize: 7 });
    await stream.ready();
    let resumes = 0;
    stream.on('resumed', () => (resumes += 1));
    const items = store.db('app').collection('items');
    const received: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      await items.insertMany(Array.from({ length: 20 }, (_, index) => ({ _id: round * 20 + index })));
      for (let index = 0; index < 10; index += 1) received.push((await stream.next()).documentKey?.['_id'] as number);
      proxy.cutAll();
      for (let index = 0; index < 10; index += 1) received.push((await stream.next()).documentKey?.['_id'] as number);
    }
    expect(received).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(resumes).toBeGreaterThanOrEqual(1);
  });

  it('resumes on a restarted server over the same store with nothing lost', async () => {
    const directory = await tempDir();
    const store = await openStore(directory);
    const first = new ChangeStreamServer({ source: store });
    const { port } = await first.listen();
    useTeardown(() => first.close());
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port } });
    useTeardown(() => proxy.close());
    const stream = client(proxy.url('ws')).watch();
    await stream.ready();
    const items = store.db('app').collection('items');
    await items.insertMany([{ _id: 1 }, { _id: 2 }]);
    expect((await stream.next()).documentKey).toEqual({ _id: 1 });
    await first.close();
    await items.insertMany([{ _id: 3 }, { _id: 4 }]);
    const second = new ChangeStreamServer({ source: store });
    const restarted = await second.listen();
    useTeardown(() => second.close());
    proxy.setTarget({ host: '127.0.0.1', port: restarted.port });
    const rest: unknown[] = [];
    for (let index = 0; index < 3; index += 1) rest.push((await stream.next()).documentKey?.['_id']);
    expect(rest).toEqual([2, 3, 4]);
  });
});

describe('ChangeStream through a stalled connection', () => {
  it('times the stalled getMore out, resumes, and delivers the change once', async () => {
    const store = await openStore();
    const { port } = await startServer(store);
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port } });
    useTeardown(() => proxy.close());
    const stream = client(proxy.url('ws'), { socketTimeoutMS: 200, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } }).watch([], { maxAwaitTimeMS: 100 });
    await stream.ready();
    const resumed = new Promise<Error>((resolve) => stream.on('resumed', resolve));
    proxy.stall();
    await store.db('app').collection('items').insertOne({ _id: 'stalled' });
    const next = stream.next();
    const unstall = setTimeout(() => proxy.resume(), 600);
    useTeardown(() => clearTimeout(unstall));
    expect((await next).documentKey).toEqual({ _id: 'stalled' });
    expect((await resumed).name).toMatch(/TimeoutError|ConnectionError/);
    expect(await stream.tryNext()).toBeNull();
  });
});
