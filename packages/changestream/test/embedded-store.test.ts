import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BulkWriteError, ErrorCode, WriteError, type ChangeRecord, type ChangeSink } from '../src/server.js';
import { client, openStore, startServer, tempDir } from './helpers.js';

function collect(): ChangeSink & { records: ChangeRecord[] } {
  const records: ChangeRecord[] = [];
  return { records, append: (batch) => void records.push(...batch) };
}

describe('EmbeddedStore', () => {
  it('inserts, updates, replaces and deletes with MongoDB filters and operators', async () => {
    const store = await openStore();
    const items = store.db('app').collection('items');
    const { insertedId } = await items.insertOne({ name: 'pen', price: 2, tags: ['a', 'b', 'c'], dims: { w: 1, h: 2 } });
    expect(typeof insertedId).toBe('string');
    expect(items.findOne({ name: 'pen' })).toMatchObject({ _id: insertedId, price: 2 });
    await items.insertMany([{ _id: 2, name: 'ink', price: 5 }, { _id: 3, name: 'pad', price: 1 }]);
    expect(items.countDocuments({ price: { $gte: 2 } })).toBe(2);
    expect(await items.updateOne({ price: { $gt: 4 } }, { $inc: { price: 1 }, $set: { 'meta.x': true } })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(items.findOne({ _id: 2 })).toEqual({ _id: 2, name: 'ink', price: 6, meta: { x: true } });
    expect(await items.updateOne({ _id: 99 }, { $set: { a: 1 } })).toMatchObject({ matchedCount: 0, modifiedCount: 0 });
    expect(await items.updateOne({ _id: 3 }, { $set: { price: 1 } })).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    expect(await items.replaceOne({ _id: 3 }, { name: 'notebook' })).toMatchObject({ modifiedCount: 1 });
    expect(items.findOne({ _id: 3 })).toEqual({ _id: 3, name: 'notebook' });
    expect(await items.deleteOne({ name: 'notebook' })).toEqual({ acknowledged: true, deletedCount: 1 });
    expect(await items.updateOne({ name: 'cap' }, { $set: { price: 9 } }, { upsert: true })).toMatchObject({ upsertedCount: 1 });
    expect(items.findOne({ name: 'cap' })).toMatchObject({ name: 'cap', price: 9 });
  });

  it('refuses a duplicate _id with code 11000, and bad updates', async () => {
    const store = await openStore();
    const items = store.db('app').collection('items');
    await items.insertOne({ _id: 1 });
    const duplicate = await items.insertOne({ _id: 1 }).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(WriteError);
    expect(duplicate).toMatchObject({ code: 11000, codeName: 'DuplicateKey' });
    await expect(items.insertMany([{ _id: 5 }, { _id: 5 }])).rejects.toMatchObject({ code: ErrorCode.DuplicateKey });
    expect(items.countDocuments()).toBe(2);
    await expect(items.updateOne({ _id: 1 }, { plain: 1 })).rejects.toMatchObject({ code: ErrorCode.FailedToParse });
    await expect(items.updateOne({ _id: 1 }, { $set: { _id: 2 } })).rejects.toMatchObject({ code: 66 });
    await expect(items.replaceOne({ _id: 1 }, { $set: { a: 1 } })).rejects.toMatchObject({ code: ErrorCode.BadValue });
  });

  it('applies ordered inserts until the first refusal, and reports what was inserted', async () => {
    const store = await openStore();
    const sink = collect();
    await store.attach(sink);
    const items = store.db('app').collection('items');
    await items.insertOne({ _id: 2 });
    const error = await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BulkWriteError);
    expect(error).toBeInstanceOf(WriteError);
    const bulk = error as BulkWriteError;
    expect(bulk.code).toBe(ErrorCode.DuplicateKey);
    expect(bulk.writeErrors).toEqual([expect.objectContaining({ index: 1, code: 11000, codeName: 'DuplicateKey' })]);
    expect(bulk.insertedCount).toBe(1);
    expect(bulk.insertedIds).toEqual({ 0: 1 });
    expect(items.find().map((document) => document['_id'])).toEqual([2, 1]);
    // The inserted document was recorded (and streamed) before the error was reported.
    expect(sink.records.filter((record) => record.operationType === 'insert').map((record) => record.documentKey?.['_id'])).toEqual([2, 1]);
  });

  it('continues past refusals when unordered, reporting each one', async () => {
    const store = await openStore();
    const items = store.db('app').collection('items');
    await items.insertOne({ _id: 2 });
    const error = (await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }, { _id: 1 }, { _id: 4 }], { ordered: false }).catch((caught: unknown) => caught)) as BulkWriteError;
    expect(error).toBeInstanceOf(BulkWriteError);
    expect(error.writeErrors.map((detail) => [detail.index, detail.code])).toEqual([
      [1, 11000],
      [3, 11000],
    ]);
    expect(error.insertedCount).toBe(3);
    expect(error.insertedIds).toEqual({ 0: 1, 2: 3, 4: 4 });
    expect(items.find().map((document) => document['_id']).sort()).toEqual([1, 2, 3, 4]);
    expect(await items.insertMany([{ _id: 5 }, { _id: 6 }], { ordered: false })).toEqual({ acknowledged: true, insertedCount: 2, insertedIds: { 0: 5, 1: 6 } });
    // A duplicate in insertOne is a plain WriteError, and a non-document refuses the whole batch.
    const single = await items.insertOne({ _id: 5 }).catch((caught: unknown) => caught);
    expect(single).toBeInstanceOf(WriteError);
    expect(single).not.toBeInstanceOf(BulkWriteError);
    await expect(items.insertMany([{ _id: 7 }, 'nope' as never])).rejects.toMatchObject({ code: ErrorCode.BadValue });
    expect(items.countDocuments({ _id: 7 })).toBe(0);
  });

  it('records updateDescription, pre-images and post-images', async () => {
    const store = await openStore();
    const sink = collect();
    await store.attach(sink);
    const items = store.db('app').collection('items');
    await items.insertOne({ _id: 1, a: 1, b: { c: 1, d: 2 }, list: [1, 2, 3, 4], gone: true });
    await items.updateOne({ _id: 1 }, { $set: { a: 2, 'b.c': 5 }, $unset: { gone: '' }, $pop: { list: 1 } });
    const update = sink.records.find((record) => record.operationType === 'update');
    expect(update?.updateDescription).toEqual({
      updatedFields: { a: 2, 'b.c': 5 },
      removedFields: ['gone'],
      truncatedArrays: [{ field: 'list', newSize: 3 }],
    });
    expect(update?.fullDocumentBeforeChange).toMatchObject({ a: 1, gone: true });
    expect(update?.fullDocument).toMatchObject({ a: 2, list: [1, 2, 3] });
    expect(sink.records.map((record) => record.operationType)).toEqual(['create', 'insert', 'update']);
  });

  it('rebuilds its documents from the change log, and survives a torn tail', async () => {
    const directory = await tempDir();
    const first = await openStore(directory);
    const items = first.db('app').collection('items');
    await items.insertMany([{ _id: 1, v: 1 }, { _id: 2, v: 2 }]);
    await items.updateOne({ _id: 1 }, { $set: { v: 10 } });
    await items.deleteOne({ _id: 2 });
    await first.close();
    await appendFile(join(directory, 'changes.log'), new Uint8Array([0, 0, 1, 0, 9, 9]));
    const second = await openStore(directory);
    expect(second.db('app').collection('items').find()).toEqual([{ _id: 1, v: 10 }]);
    expect(second.changeCount).toBe(5);
    const next = await second.db('app').collection('items').insertOne({ _id: 3 });
    expect(next.insertedId).toBe(3);
    const sink = collect();
    await second.attach(sink);
    const tokens = sink.records.map((record) => record.token);
    expect([...tokens].sort()).toEqual(tokens);
    expect(new Set(tokens).size).toBe(6);
  });

  it('keeps only the retained history in memory, and reports where it starts', async () => {
    const store = await openStore(undefined, { retention: { retainChanges: 10 } });
    const items = store.db('app').collection('items');
    for (let id = 0; id < 200; id += 1) await items.insertOne({ _id: id });
    expect(store.changeCount).toBe(10);
    const sink = collect();
    const attachment = await store.attach(sink);
    expect(sink.records.map((record) => record.documentKey?.['_id'])).toEqual(Array.from({ length: 10 }, (_, index) => 190 + index));
    expect(attachment.origin).toBe(store.historyOrigin);
    expect(attachment.origin < (sink.records[0] as ChangeRecord).token).toBe(true);
    expect(items.countDocuments()).toBe(200);
  });

  it('compacts its log into a snapshot plus retained history, and reopens from it', async () => {
    const directory = await tempDir();
    const first = await openStore(directory, { retention: { retainChanges: 20 }, compactAfterBytes: 4096 });
    const items = first.db('app').collection('items');
    await first.db('app').collection('empty').insertOne({ _id: 'x' });
    await first.db('app').collection('empty').deleteOne({ _id: 'x' });
    for (let id = 0; id < 1000; id += 1) await items.insertOne({ _id: id, payload: 'p'.repeat(100), at: new Date(id) });
    for (let id = 0; id < 1000; id += 3) await items.updateOne({ _id: id }, { $set: { updated: true } });
    for (let id = 1; id < 1000; id += 3) await items.deleteOne({ _id: id });
    await first.compact();
    // Far smaller than the ~1,700 changes written: the documents plus 20 changes.
    expect(first.logSize).toBeLessThan(200_000);
    const expected = items.find();
    const origin = first.historyOrigin;
    const sink = collect();
    await first.attach(sink);
    await first.close();
    const second = await openStore(directory, { retention: { retainChanges: 20 } });
    expect(second.db('app').collection('items').find()).toEqual(expected);
    expect(second.db('app').listCollectionNames().sort()).toEqual(['empty', 'items']);
    expect(second.historyOrigin).toBe(origin);
    const reopened = collect();
    await second.attach(reopened);
    expect(reopened.records).toEqual(sink.records);
    // New writes continue the token sequence after the snapshot.
    await second.db('app').collection('items').insertOne({ _id: 'new' });
    expect((reopened.records.at(-1) as ChangeRecord).token > (sink.records.at(-1) as ChangeRecord).token).toBe(true);
    expect(second.db('app').collection('items').findOne({ _id: 'new' })).toEqual({ _id: 'new' });
  });

  it('bounds its log file by compacting as it grows', async () => {
    const directory = await tempDir();
    const first = await openStore(directory, { retention: { retainChanges: 10 }, compactAfterBytes: 8192 });
    const counters = first.db('app').collection('counters');
    for (let id = 0; id < 10; id += 1) await counters.insertOne({ _id: id, n: 0 });
    let largest = 0;
    for (let round = 0; round < 1500; round += 1) {
      await counters.updateOne({ _id: round % 10 }, { $inc: { n: 1 } });
      largest = Math.max(largest, first.logSize);
    }
    // 1,500 updates take hundreds of KiB uncompacted; the file stays near the threshold.
    expect(largest).toBeLessThan(3 * 8192);
    await first.close();
    const second = await openStore(directory);
    expect(second.db('app').collection('counters').find()).toEqual(Array.from({ length: 10 }, (_, id) => ({ _id: id, n: 150 })));
  });

  it('serves tokens within its retained history after a restart, and 286 before it', async () => {
    const directory = await tempDir();
    const first = await openStore(directory, { retention: { retainChanges: 5 }, compactAfterBytes: 1024 });
    const items = first.db('app').collection('items');
    const sink = collect();
    await first.attach(sink);
    for (let id = 0; id < 40; id += 1) await items.insertOne({ _id: id });
    const tokenOf = (id: number): string => (sink.records.find((record) => record.documentKey?.['_id'] === id) as ChangeRecord).token;
    await first.close();
    const second = await openStore(directory, { retention: { retainChanges: 5 } });
    const { url } = await startServer(second);
    const lost = client(url).watch([], { resumeAfter: { _data: tokenOf(10) } });
    await expect(lost.next()).rejects.toMatchObject({ code: ErrorCode.ChangeStreamHistoryLost });
    const kept = client(url).watch([], { resumeAfter: { _data: tokenOf(36) } });
    expect((await kept.next()).documentKey).toEqual({ _id: 37 });
    await second.db('app').collection('items').insertOne({ _id: 40 });
    expect((await kept.next()).documentKey).toEqual({ _id: 38 });
  });

  it('loses no write made while a compaction runs', async () => {
    const directory = await tempDir();
    const first = await openStore(directory, { retention: { retainChanges: 5 }, compactAfterBytes: Infinity });
    const items = first.db('app').collection('items');
    for (let id = 0; id < 100; id += 1) await items.insertOne({ _id: id });
    const writes: Promise<unknown>[] = [];
    for (let id = 100; id < 150; id += 1) writes.push(items.insertOne({ _id: id }));
    const compaction = first.compact();
    for (let id = 150; id < 200; id += 1) writes.push(items.insertOne({ _id: id }));
    writes.push(items.updateOne({ _id: 0 }, { $set: { touched: true } }));
    await Promise.all([compaction, ...writes]);
    await first.close();
    const second = await openStore(directory);
    const ids = second.db('app').collection('items').find().map((document) => document['_id']);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, index) => index));
    expect(second.db('app').collection('items').findOne({ _id: 0 })).toEqual({ _id: 0, touched: true });
  });

  it('drops collections and databases', async () => {
    const store = await openStore();
    const db = store.db('app');
    await db.collection('a').insertOne({ _id: 1 });
    await db.collection('b').insertOne({ _id: 1 });
    expect(await db.collection('a').drop()).toBe(true);
    expect(await db.collection('a').drop()).toBe(false);
    expect(db.listCollectionNames()).toEqual(['b']);
    await db.dropDatabase();
    expect(db.listCollectionNames()).toEqual([]);
  });
});
