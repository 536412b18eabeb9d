import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, WriteError, type ChangeRecord, type ChangeSink } from '../src/server.js';
import { openStore, tempDir } from './helpers.js';

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
    expect(items.countDocuments()).toBe(1);
    await expect(items.updateOne({ _id: 1 }, { plain: 1 })).rejects.toMatchObject({ code: ErrorCode.FailedToParse });
    await expect(items.updateOne({ _id: 1 }, { $set: { _id: 2 } })).rejects.toMatchObject({ code: 66 });
    await expect(items.replaceOne({ _id: 1 }, { $set: { a: 1 } })).rejects.toMatchObject({ code: ErrorCode.BadValue });
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
