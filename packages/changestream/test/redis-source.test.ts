import { FaultProxy, hasCommand, peerAvailable, startRedis, useTeardown, type RedisServer } from '@rt/test-harness';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { publishRedisChange, redisTokenData, RedisStreamSource } from '../src/server.js';
import { client, startServer } from './helpers.js';

const available = await peerAvailable('redis-server (Debian redis-server)', hasCommand('redis-server'));

describe.skipIf(!available)('RedisStreamSource against a real Redis', () => {
  let redis: RedisServer;
  let writer: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    useTeardown(() => redis.stop());
    writer = new Redis(redis.url);
    useTeardown(() => writer.quit());
  });

  const insert = (stream: string, id: number) =>
    publishRedisChange(writer, stream, { operationType: 'insert', ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: id }, fullDocument: { _id: id, at: new Date(id) } });

  it('streams entries as changes with tokens from entry ids', async () => {
    const stream = 'changes-basic';
    const firstId = await insert(stream, 1);
    const { url } = await startServer(new RedisStreamSource({ url: redis.url, stream }));
    const watcher = client(url).db('shop').collection('orders').watch([], { startAtOperationTime: { t: 0, i: 0 } });
    const first = await watcher.next();
    expect(first._id).toEqual({ _data: redisTokenData(firstId) });
    expect(first.fullDocument).toEqual({ _id: 1, at: new Date(1) });
    await writer.xadd(stream, '*', 'unrelated', 'entry');
    const secondId = await insert(stream, 2);
    const second = await watcher.next();
    expect(second._id).toEqual({ _data: redisTokenData(secondId) });
    expect(second.wallTime).toBeInstanceOf(Date);
  });

  it('lets a client cut from one gateway resume on another with nothing lost', async () => {
    const stream = 'changes-two-gateways';
    const a = await startServer(new RedisStreamSource({ url: redis.url, stream }));
    const b = await startServer(new RedisStreamSource({ url: redis.url, stream }));
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: a.port } });
    useTeardown(() => proxy.close());
    const watcher = client(proxy.url('ws')).db('shop').collection('orders').watch();
    await watcher.ready();
    const received: unknown[] = [];
    for (let id = 0; id < 30; id += 1) await insert(stream, id);
    while (received.length < 12) received.push((await watcher.next()).documentKey?.['_id']);
    await a.server.close();
    proxy.setTarget({ host: '127.0.0.1', port: b.port });
    proxy.cutAll();
    for (let id = 30; id < 60; id += 1) await insert(stream, id);
    while (received.length < 60) received.push((await watcher.next()).documentKey?.['_id']);
    expect(received).toEqual(Array.from({ length: 60 }, (_, index) => index));
  });

  it('answers 286 for tokens older than a trimmed stream', async () => {
    const stream = 'changes-trimmed';
    const oldId = await insert(stream, 1);
    for (let id = 2; id < 10; id += 1) await insert(stream, id);
    await writer.xtrim(stream, 'MAXLEN', 3);
    const { url } = await startServer(new RedisStreamSource({ url: redis.url, stream }));
    const watcher = client(url).watch([], { resumeAfter: { _data: redisTokenData(oldId) } });
    await expect(watcher.next()).rejects.toMatchObject({ code: 286 });
  });

  it('bounds the gateway retained log, answering 286 before its start', async () => {
    const stream = 'changes-retained';
    const ids: string[] = [];
    for (let id = 0; id < 10; id += 1) ids.push(await insert(stream, id));
    const { url } = await startServer(new RedisStreamSource({ url: redis.url, stream }), { retention: { retainChanges: 4 } });
    const lost = client(url).watch([], { resumeAfter: { _data: redisTokenData(ids[2] as string) } });
    await expect(lost.next()).rejects.toMatchObject({ code: 286 });
    const kept = client(url).watch([], { resumeAfter: { _data: redisTokenData(ids[6] as string) } });
    expect((await kept.next()).documentKey).toEqual({ _id: 7 });
  });

  it('delivers 2,000 changes exactly once while the client is cut and moved between gateways', async () => {
    const stream = 'changes-chaos';
    const gateways = [await startServer(new RedisStreamSource({ url: redis.url, stream })), await startServer(new RedisStreamSource({ url: redis.url, stream }))];
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: gateways[0]?.port ?? 0 } });
    useTeardown(() => proxy.close());
    const watcher = client(proxy.url('ws'), { reconnect: { initialDelayMs: 5, maxDelayMs: 50 } }).db('shop').collection('orders').watch([], { batchSize: 50 });
    await watcher.ready();
    const total = 2000;
    const received: unknown[] = [];
    const writerDone = (async () => {
      for (let start = 0; start < total; start += 50) await appendBatch(start, 50).exec();
    })();
    function appendBatch(start: number, count: number) {
      const pipeline = writer.pipeline();
      for (let id = start; id < start + count; id += 1) {
        pipeline.xadd(stream, '*', 'change', JSON.stringify({ operationType: 'insert', ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: id } }));
      }
      return pipeline;
    }
    let moves = 0;
    const chaos = (async () => {
      while (received.length < total) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        moves += 1;
        proxy.setTarget({ host: '127.0.0.1', port: gateways[moves % 2]?.port ?? 0 });
        proxy.cutAll();
      }
    })();
    writerDone.catch(() => undefined);
    while (received.length < total) received.push((await watcher.next()).documentKey?.['_id']);
    await Promise.all([writerDone, chaos]);
    expect(received).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(moves).toBeGreaterThan(2);
  });
});
