import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/index.js';
import { batchOf, openStore, rawConnection, startServer } from './helpers.js';

async function setup(options: Parameters<typeof startServer>[1] = {}) {
  const store = await openStore();
  const { url, server } = await startServer(store, options);
  const connection = await rawConnection(url);
  return { store, url, server, connection, items: store.db('app').collection('items') };
}

const watchItems = (pipeline: unknown[] = [], options: Record<string, unknown> = {}) => ({ op: 'watch', ns: { db: 'app', coll: 'items' }, pipeline, options });

describe('ChangeStreamServer', () => {
  it('answers watch with a cursor, postBatchResumeToken and operationTime; getMore returns changes', async () => {
    const { connection, items } = await setup();
    const opened = await connection.request(watchItems());
    expect(opened.ok).toBe(1);
    expect(opened['operationTime']).toMatchObject({ t: expect.any(Number), i: expect.any(Number) });
    const first = batchOf(opened);
    expect(first.events).toEqual([]);
    expect(first.token._data).toMatch(/^[0-9a-f]{26}$/);
    await items.insertOne({ _id: 1, n: 1 });
    const more = batchOf(await connection.request({ op: 'getMore', cursorId: first.id, maxAwaitTimeMS: 5000 }));
    expect(more.events).toHaveLength(1);
    expect(more.events[0]).toMatchObject({ operationType: 'insert', ns: { db: 'app', coll: 'items' }, documentKey: { _id: 1 }, fullDocument: { _id: 1, n: 1 } });
    expect((more.events[0]?.['wallTime'] as Date).getTime()).toBeGreaterThan(0);
    expect(more.token).toEqual(more.events[0]?.['_id']);
  });

  it('holds a getMore until a change arrives, and up to maxAwaitTimeMS when none does', async () => {
    const { connection, items } = await setup();
    const { id } = batchOf(await connection.request(watchItems()));
    const held = connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 10_000 });
    await items.insertOne({ _id: 'late' });
    expect(batchOf(await held).events.map((event) => event['documentKey'])).toEqual([{ _id: 'late' }]);
    const started = Date.now();
    const quiet = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 200 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(quiet.events).toEqual([]);
  });

  it('clamps maxAwaitTimeMS to the server cap', async () => {
    const { connection } = await setup({ maxAwaitTimeMS: 50 });
    const { id } = batchOf(await connection.request(watchItems()));
    const reply = await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 600_000 });
    expect(batchOf(reply).events).toEqual([]);
  });

  it('answers pipelined getMores on one cursor in order', async () => {
    const { connection, items } = await setup();
    const { id } = batchOf(await connection.request(watchItems()));
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const replies = await Promise.all([1, 2, 3].map(() => connection.request({ op: 'getMore', cursorId: id, batchSize: 1, maxAwaitTimeMS: 1000 })));
    expect(replies.map((reply) => (batchOf(reply).events[0]?.['documentKey'] as { _id: number })._id)).toEqual([1, 2, 3]);
  });

  it('advances postBatchResumeToken past changes the pipeline filters out', async () => {
    const { connection, items } = await setup();
    const opened = batchOf(await connection.request(watchItems([{ $match: { 'fullDocument.keep': true } }])));
    await items.insertMany([{ _id: 1 }, { _id: 2 }]);
    const quiet = batchOf(await connection.request({ op: 'getMore', cursorId: opened.id, maxAwaitTimeMS: 100 }));
    expect(quiet.events).toEqual([]);
    expect(quiet.token._data > opened.token._data).toBe(true);
  });

  it('runs $match, $project, $addFields, $replaceRoot and $redact', async () => {
    const { connection, items } = await setup();
    const pipeline = [
      { $match: { operationType: 'insert', 'fullDocument.level': { $gte: 2 } } },
      { $addFields: { doubled: { $multiply: ['$fullDocument.level', 2] } } },
      { $project: { 'fullDocument.secret': 0 } },
      { $redact: { $cond: { if: { $eq: ['$fullDocument.hidden', true] }, then: '$$PRUNE', else: '$$DESCEND' } } },
      { $replaceRoot: { newRoot: { _id: '$_id', level: '$fullDocument.level', doubled: '$doubled', secret: '$fullDocument.secret' } } },
    ];
    const { id } = batchOf(await connection.request(watchItems(pipeline)));
    await items.insertMany([
      { _id: 1, level: 1 },
      { _id: 2, level: 2, secret: 's' },
      { _id: 3, level: 3, hidden: true },
      { _id: 4, level: 4 },
    ]);
    const { events } = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 }));
    expect(events.map(({ _id: _ignored, ...rest }) => rest)).toEqual([
      { level: 2, doubled: 4 },
      { level: 4, doubled: 8 },
    ]);
  });

  it.each([
    [[{ $group: { _id: null } }], ErrorCode.UnrecognizedPipelineStage],
    [[{ $frobnicate: {} }], ErrorCode.UnrecognizedPipelineStage],
    [[{ $match: { a: 1 }, $project: { a: 1 } }], ErrorCode.FailedToParse],
    [[{ $match: { a: { $bogus: 1 } } }], ErrorCode.BadValue],
    [[{ $addFields: { x: { $nonsense: 1 } } }], ErrorCode.InvalidPipelineOperator],
  ])('refuses invalid pipeline %j with code %i and keeps serving', async (pipeline, code) => {
    const { connection, url } = await setup();
    const refused = await connection.request(watchItems(pipeline));
    expect(refused).toMatchObject({ ok: 0, code, codeName: expect.any(String), errmsg: expect.any(String), errorLabels: [] });
    expect((await connection.request(watchItems())).ok).toBe(1);
    expect((await (await rawConnection(url)).request(watchItems())).ok).toBe(1);
  });

  it('fails a cursor whose pipeline changes _id with ChangeStreamFatalError', async () => {
    const { connection, items } = await setup();
    const { id } = batchOf(await connection.request(watchItems([{ $project: { _id: 0 } }])));
    await items.insertOne({ _id: 1 });
    expect(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 })).toMatchObject({ ok: 0, code: ErrorCode.ChangeStreamFatalError });
    expect(await connection.request({ op: 'getMore', cursorId: id })).toMatchObject({ ok: 0, code: ErrorCode.CursorNotFound });
  });

  it('answers malformed frames with error documents and keeps the connection', async () => {
    const { connection } = await setup();
    connection.send('{ this is not json');
    expect(await connection.nextUnmatched()).toMatchObject({ id: null, ok: 0, code: ErrorCode.FailedToParse });
    connection.send(new Uint8Array([0xc3, 0x28]));
    expect(await connection.nextUnmatched()).toMatchObject({ id: null, ok: 0, code: ErrorCode.FailedToParse });
    expect(await connection.request({ op: 'explode' })).toMatchObject({ ok: 0, code: ErrorCode.CommandNotFound });
    expect(await connection.request(watchItems([], { fullDocument: 'always' }))).toMatchObject({ ok: 0, code: ErrorCode.BadValue });
    expect(await connection.request({ op: 'getMore', cursorId: 424242 })).toMatchObject({ ok: 0, code: ErrorCode.CursorNotFound });
    expect((await connection.request(watchItems())).ok).toBe(1);
  });

  it('limits open cursors per connection', async () => {
    const { connection } = await setup({ maxCursorsPerConnection: 2 });
    const first = batchOf(await connection.request(watchItems()));
    expect((await connection.request(watchItems())).ok).toBe(1);
    expect(await connection.request(watchItems())).toMatchObject({ ok: 0, code: ErrorCode.TooManyCursors });
    expect(await connection.request({ op: 'killCursors', cursorIds: [first.id, 777] })).toMatchObject({ ok: 1, cursorsKilled: [first.id], cursorsNotFound: [777] });
    expect((await connection.request(watchItems())).ok).toBe(1);
    expect(await connection.request({ op: 'getMore', cursorId: first.id })).toMatchObject({ ok: 0, code: ErrorCode.CursorNotFound });
  });

  it('answers 286 for tokens and times older than the retained history', async () => {
    const { connection, items } = await setup({ retain: 8 });
    const { id } = batchOf(await connection.request(watchItems()));
    await items.insertOne({ _id: 0 });
    const firstToken = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 })).token;
    for (let index = 1; index <= 30; index += 1) await items.insertOne({ _id: index });
    expect(await connection.request(watchItems([], { resumeAfter: firstToken }))).toMatchObject({ ok: 0, code: ErrorCode.ChangeStreamHistoryLost, codeName: 'ChangeStreamHistoryLost' });
    expect(await connection.request(watchItems([], { startAtOperationTime: { t: 0, i: 0 } }))).toMatchObject({ ok: 0, code: ErrorCode.ChangeStreamHistoryLost });
    // The idle cursor fell behind the retained history too.
    expect(await connection.request({ op: 'getMore', cursorId: id })).toMatchObject({ ok: 0, code: ErrorCode.ChangeStreamHistoryLost });
  });

  it('resumes after a token, and from an operation time', async () => {
    const { connection, items } = await setup();
    const { id } = batchOf(await connection.request(watchItems()));
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const { events } = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 }));
    const resumed = batchOf(await connection.request(watchItems([], { resumeAfter: events[0]?.['_id'] })));
    expect(resumed.events.map((event) => event['documentKey'])).toEqual([{ _id: 2 }, { _id: 3 }]);
    const fromTime = batchOf(await connection.request(watchItems([], { startAtOperationTime: events[1]?.['clusterTime'] })));
    expect(fromTime.events.map((event) => event['documentKey'])).toEqual([{ _id: 2 }, { _id: 3 }]);
  });

  it('serves updateLookup, post-images and pre-images per the options', async () => {
    const { connection, items } = await setup();
    await items.insertOne({ _id: 1, v: 1 });
    const lookup = batchOf(await connection.request(watchItems([], { fullDocument: 'updateLookup', fullDocumentBeforeChange: 'whenAvailable' })));
    const plain = batchOf(await connection.request(watchItems()));
    await items.updateOne({ _id: 1 }, { $set: { v: 2 } });
    await items.updateOne({ _id: 1 }, { $set: { v: 3 } });
    await items.deleteOne({ _id: 1 });
    const withImages = batchOf(await connection.request({ op: 'getMore', cursorId: lookup.id, maxAwaitTimeMS: 1000 })).events;
    expect(withImages.map((event) => event['operationType'])).toEqual(['update', 'update', 'delete']);
    // updateLookup reads the document as it is now: deleted.
    expect(withImages[0]?.['fullDocument']).toBeNull();
    expect(withImages[0]?.['fullDocumentBeforeChange']).toEqual({ _id: 1, v: 1 });
    expect(withImages[2]?.['fullDocumentBeforeChange']).toEqual({ _id: 1, v: 3 });
    const without = batchOf(await connection.request({ op: 'getMore', cursorId: plain.id, maxAwaitTimeMS: 1000 })).events;
    expect(without[0]).not.toHaveProperty('fullDocument');
    expect(without[0]).not.toHaveProperty('fullDocumentBeforeChange');
    expect(without[0]?.['updateDescription']).toEqual({ updatedFields: { v: 2 }, removedFields: [], truncatedArrays: [] });
    const available = batchOf(await connection.request(watchItems([], { fullDocument: 'whenAvailable', startAtOperationTime: { t: 0, i: 0 } }))).events;
    expect(available.filter((event) => event['operationType'] === 'update').map((event) => event['fullDocument'])).toEqual([{ _id: 1, v: 2 }, { _id: 1, v: 3 }]);
  });

  it('invalidates a collection stream on drop; startAfter the invalidate continues, resumeAfter is refused', async () => {
    const { connection, items } = await setup();
    const { id } = batchOf(await connection.request(watchItems()));
    await items.insertOne({ _id: 1 });
    await items.drop();
    const ended = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 }));
    expect(ended.events.map((event) => event['operationType'])).toEqual(['insert', 'drop', 'invalidate']);
    expect(ended.id).toBe(0);
    const invalidate = ended.events[2]?.['_id'];
    expect(await connection.request(watchItems([], { resumeAfter: invalidate }))).toMatchObject({ ok: 0, code: ErrorCode.InvalidResumeToken });
    const after = batchOf(await connection.request(watchItems([], { startAfter: invalidate })));
    await items.insertOne({ _id: 2 });
    const next = batchOf(await connection.request({ op: 'getMore', cursorId: after.id, maxAwaitTimeMS: 1000 }));
    expect(next.events.map((event) => event['documentKey'])).toEqual([{ _id: 2 }]);
  });

  it('reports a rename with its target, then invalidates the renamed collection\'s stream', async () => {
    const { connection, items, store } = await setup();
    const { id } = batchOf(await connection.request(watchItems()));
    await items.insertOne({ _id: 1 });
    const renamed = await items.rename('archive');
    expect(renamed.findOne({ _id: 1 })).toEqual({ _id: 1 });
    expect(store.db('app').listCollectionNames()).toEqual(['archive']);
    await expect(renamed.rename('archive')).rejects.toMatchObject({ code: ErrorCode.NamespaceExists });
    const { events } = batchOf(await connection.request({ op: 'getMore', cursorId: id, maxAwaitTimeMS: 1000 }));
    expect(events.map((event) => event['operationType'])).toEqual(['insert', 'rename', 'invalidate']);
    expect(events[1]).toMatchObject({ ns: { db: 'app', coll: 'items' }, to: { db: 'app', coll: 'archive' } });
  });

  it('scopes streams to a collection, a database or everything; expanded events on request', async () => {
    const { connection, store } = await setup();
    const all = batchOf(await connection.request({ op: 'watch', ns: {}, pipeline: [] }));
    const db = batchOf(await connection.request({ op: 'watch', ns: { db: 'app' }, pipeline: [], options: { showExpandedEvents: true } }));
    await store.db('app').collection('a').insertOne({ _id: 1 });
    await store.db('other').collection('b').insertOne({ _id: 2 });
    const everything = batchOf(await connection.request({ op: 'getMore', cursorId: all.id, maxAwaitTimeMS: 500 })).events;
    expect(everything.map((event) => event['ns'])).toEqual([{ db: 'app', coll: 'a' }, { db: 'other', coll: 'b' }]);
    const database = batchOf(await connection.request({ op: 'getMore', cursorId: db.id, maxAwaitTimeMS: 500 })).events;
    expect(database.map((event) => event['operationType'])).toEqual(['create', 'insert']);
  });

  it('asks authorize for each watch and answers Unauthorized', async () => {
    const { connection } = await setup({ authorize: ({ ns }) => ns.db === 'app' });
    expect((await connection.request(watchItems())).ok).toBe(1);
    expect(await connection.request({ op: 'watch', ns: { db: 'secret' }, pipeline: [] })).toMatchObject({ ok: 0, code: ErrorCode.Unauthorized, codeName: 'Unauthorized' });
  });
});

describe('ChangeStreamServer limits', () => {
  it('closes a connection that sends an oversize frame with 1009 and keeps serving others', async () => {
    const store = await openStore();
    const { url } = await startServer(store, { maxPayload: 64 * 1024 });
    const offender = await rawConnection(url);
    const bystander = await rawConnection(url);
    offender.send('x'.repeat(128 * 1024));
    expect((await offender.transport.closed).code).toBe(1009);
    expect((await bystander.request({ op: 'watch', ns: {}, pipeline: [] })).ok).toBe(1);
  });
});
