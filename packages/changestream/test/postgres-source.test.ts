import { FaultProxy, peerAvailable, POSTGRES_BIN_DIR, startPostgres, useTeardown, type PostgresServer } from '@rt/test-harness';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChangeStreamDocument } from '../src/index.js';
import { ChangeStreamServer, parseLsn, PostgresSource, splitTokenData } from '../src/server.js';
import { client, startServer, tempDir } from './helpers.js';

const available = await peerAvailable('PostgreSQL 15 (Debian postgresql-15)', () => existsSync(join(POSTGRES_BIN_DIR, 'initdb')));

type Item = { id: number; name: string; n: number };

describe.skipIf(!available)('PostgresSource against a real PostgreSQL 15', () => {
  let postgres: PostgresServer;
  beforeAll(async () => {
    postgres = await startPostgres();
    useTeardown(() => postgres.stop());
    await postgres.psql('CREATE TABLE items (id int PRIMARY KEY, name text, n int); ALTER TABLE items REPLICA IDENTITY FULL; CREATE TABLE plain (id int PRIMARY KEY, v text);');
  }, 90_000);

  const source = (slot: string, directory?: string) =>
    new PostgresSource({ connectionString: postgres.connectionString, slot, publication: 'rt_changes', ...(directory ? { directory } : {}) });

  it('streams inserts, updates with pre-images and deletes; tokens come from the commit LSN', async () => {
    const { url } = await startServer(source('slot_basic'));
    const stream = client(url).db('postgres').collection('items').watch<ChangeStreamDocument<Item>>([], { fullDocumentBeforeChange: 'whenAvailable', fullDocument: 'updateLookup' });
    await stream.ready();
    await postgres.psql("BEGIN; INSERT INTO items VALUES (1, 'a', 1); INSERT INTO items VALUES (2, 'b', 2); COMMIT;");
    await postgres.psql("UPDATE items SET n = 10 WHERE id = 1; DELETE FROM items WHERE id = 2;");
    const changes = [await stream.next(), await stream.next(), await stream.next(), await stream.next()];
    expect(changes.map((change) => change.operationType)).toEqual(['insert', 'insert', 'update', 'delete']);
    expect(changes[0]).toMatchObject({ ns: { db: 'postgres', coll: 'items' }, documentKey: { _id: 1 }, fullDocument: { id: 1, name: 'a', n: 1 } });
    const [first, second] = changes.map((change) => splitTokenData(change._id._data));
    expect(first?.major).toBe(second?.major);
    expect([first?.minor, second?.minor]).toEqual([0, 1]);
    expect(changes[2]).toMatchObject({
      updateDescription: { updatedFields: { n: 10 }, removedFields: [] },
      fullDocumentBeforeChange: { id: 1, name: 'a', n: 1 },
      fullDocument: { id: 1, name: 'a', n: 10 },
    });
    expect(changes[3]).toMatchObject({ documentKey: { _id: 2 }, fullDocumentBeforeChange: { id: 2, name: 'b', n: 2 } });
    const lsn = await postgres.psql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'slot_basic'");
    expect(parseLsn(lsn)).toBeGreaterThanOrEqual(splitTokenData(changes[3]?._id._data ?? '').major);
  });

  it('gives no pre-image without REPLICA IDENTITY FULL', async () => {
    const { url } = await startServer(source('slot_plain'));
    const stream = client(url).db('postgres').collection('plain').watch([], { fullDocumentBeforeChange: 'whenAvailable' });
    await stream.ready();
    await postgres.psql("INSERT INTO plain VALUES (1, 'x'); UPDATE plain SET v = 'y' WHERE id = 1;");
    await stream.next();
    const update = await stream.next();
    expect(update).toMatchObject({ operationType: 'update', fullDocumentBeforeChange: null, updateDescription: { updatedFields: { v: 'y' } } });
  });

  it('serves the same tokens from two gateways, and from a restarted one, with nothing lost', async () => {
    const directory = await tempDir();
    const a = new ChangeStreamServer({ source: source('slot_a', directory) });
    const addressA = await a.listen();
    useTeardown(() => a.close());
    const b = await startServer(source('slot_b'));
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: addressA.port } });
    useTeardown(() => proxy.close());
    const stream = client(proxy.url('ws')).db('postgres').collection('items').watch<ChangeStreamDocument<Item>>();
    await stream.ready();
    const received: number[] = [];
    const write = (from: number, to: number) =>
      postgres.psql(Array.from({ length: to - from }, (_, index) => `INSERT INTO items VALUES (${100 + from + index}, 'x', ${from + index});`).join(' '));
    await write(0, 20);
    while (received.length < 10) received.push((await stream.next()).fullDocument?.n as number);
    // Cut from gateway A: resume on gateway B.
    proxy.setTarget({ host: '127.0.0.1', port: b.port });
    proxy.cutAll();
    await write(20, 40);
    while (received.length < 30) received.push((await stream.next()).fullDocument?.n as number);
    // Back to a restarted gateway A (same slot and durable log).
    await a.close();
    const restarted = new ChangeStreamServer({ source: source('slot_a', directory) });
    const addressRestarted = await restarted.listen();
    useTeardown(() => restarted.close());
    proxy.setTarget({ host: '127.0.0.1', port: addressRestarted.port });
    proxy.cutAll();
    await write(40, 50);
    while (received.length < 50) received.push((await stream.next()).fullDocument?.n as number);
    expect(received).toEqual(Array.from({ length: 50 }, (_, index) => index));
  });

  it('bounds and compacts its durable copy, answering 286 before it after a restart', async () => {
    const directory = await tempDir();
    const retainedSource = () =>
      new PostgresSource({ connectionString: postgres.connectionString, slot: 'slot_retained', publication: 'rt_changes', directory, retention: { retainChanges: 3 }, compactAfterBytes: 1 });
    const first = new ChangeStreamServer({ source: retainedSource() });
    const address = await first.listen();
    const stream = client(`ws://${address.host}:${address.port}`).db('postgres').collection('plain').watch();
    await stream.ready();
    for (let id = 200; id < 210; id += 1) await postgres.psql(`INSERT INTO plain VALUES (${id}, 'r');`);
    const tokens: string[] = [];
    while (tokens.length < 10) tokens.push((await stream.next())._id._data);
    await first.close();
    const { url } = await startServer(retainedSource());
    const lost = client(url).watch([], { resumeAfter: { _data: tokens[2] as string } });
    await expect(lost.next()).rejects.toMatchObject({ code: 286 });
    const kept = client(url).db('postgres').collection('plain').watch([], { resumeAfter: { _data: tokens[7] as string } });
    expect((await kept.next()).documentKey).toEqual({ _id: 208 });
    expect((await kept.next()).documentKey).toEqual({ _id: 209 });
  });

  it('re-opens a replication connection that PostgreSQL terminated, losing nothing', async () => {
    const { url } = await startServer(source('slot_reconnect'));
    const stream = client(url).db('postgres').collection('plain').watch();
    await stream.ready();
    await postgres.psql("INSERT INTO plain VALUES (100, 'before');");
    expect((await stream.next()).documentKey).toEqual({ _id: 100 });
    await postgres.psql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'slot_reconnect';");
    await postgres.psql("INSERT INTO plain VALUES (101, 'during'); INSERT INTO plain VALUES (102, 'after');");
    expect((await stream.next()).documentKey).toEqual({ _id: 101 });
    expect((await stream.next()).documentKey).toEqual({ _id: 102 });
  });
});
