import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeStreamClient, ChangeStreamError, type ChangeStreamDocument, type ResumeToken } from '@rt/changestream';
import { ChangeStreamServer, EmbeddedStore } from '@rt/changestream/server';
import { FaultProxy } from '@rt/test-harness';
import { waitFor } from '@rt/transport';
import type { Chapter } from '../chapter.js';

const HOST = '127.0.0.1';
const STEP_TIMEOUT_MS = 5_000;

type Item = { _id: number; name: string; stock: number };

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return waitFor(promise, { timeoutMs: STEP_TIMEOUT_MS, what });
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export const chapter: Chapter = {
  title: 'Change streams: watch, filter, resume through a cut and a server restart',
  async run(log) {
    const directory = await mkdtemp(join(tmpdir(), 'rt-demo-changestream-'));
    const cleanup: (() => Promise<unknown>)[] = [];
    try {
      const store = await EmbeddedStore.open(directory);
      cleanup.push(() => store.close());
      const items = store.db('shop').collection<Item>('items');
      let server = new ChangeStreamServer({ source: store });
      const first = await server.listen();
      cleanup.push(() => server.close());
      log(`server: embedded store in ${directory}, listening on ws://${first.host}:${first.port}`);
      const proxy = await FaultProxy.start({ target: first });
      cleanup.push(() => proxy.close());

      const client = new ChangeStreamClient(proxy.url('ws'));
      cleanup.push(() => client.close());
      const stream = client
        .db('shop')
        .collection<Item>('items')
        .watch<ChangeStreamDocument<Item>>([{ $match: { operationType: { $in: ['insert', 'update'] } } }], {
          fullDocument: 'updateLookup',
        });
      await within(stream.ready(), 'opening the stream');
      log(`client: watching shop.items for inserts and updates, resume token ${stream.resumeToken?._data}`);

      await items.insertOne({ _id: 1, name: 'lamp', stock: 3 });
      await items.updateOne({ _id: 1 }, { $inc: { stock: -1 } });
      const insert = await within(stream.next(), 'the insert');
      log(`client: ${insert.operationType} ${JSON.stringify(insert.fullDocument)}`);
      const update = await within(stream.next(), 'the update');
      log(`client: ${update.operationType} ${JSON.stringify(update.updateDescription?.updatedFields)}, looked up: ${JSON.stringify(update.fullDocument)}`);
      expectEqual(update.updateDescription?.updatedFields, { stock: 2 }, 'update description');
      await items.deleteOne({ _id: 1 });
      log('client: the delete was filtered out by $match, yet the token still moves on:');
      expectEqual(await within(stream.tryNext(), 'tryNext'), null, 'tryNext after a filtered delete');
      log(`client: tryNext() → null, resume token ${stream.resumeToken?._data}`);

      let resumes = 0;
      stream.on('resumed', (error) => {
        resumes += 1;
        log(`client: resumed after ${error.name}: ${error.message}`);
      });
      proxy.cutAll();
      log('proxy: every connection cut');
      await items.insertOne({ _id: 2, name: 'desk', stock: 1 });
      const afterCut = await within(stream.next(), 'the change after the cut');
      log(`client: ${afterCut.operationType} ${JSON.stringify(afterCut.fullDocument)} (nothing lost)`);

      await server.close();
      log('server: stopped');
      await items.insertOne({ _id: 3, name: 'chair', stock: 4 });
      log('store: wrote item 3 while no server was running');
      server = new ChangeStreamServer({ source: store });
      const second = await server.listen();
      proxy.setTarget(second);
      log(`server: restarted on the same store, port ${second.port}`);
      const afterRestart = await within(stream.next(), 'the change written while the server was down');
      log(`client: ${afterRestart.operationType} ${JSON.stringify(afterRestart.fullDocument)} (nothing lost)`);
      expectEqual(afterRestart.documentKey, { _id: 3 }, 'change after the restart');
      if (resumes < 2) throw new Error(`expected two resumes, saw ${resumes}`);

      const token = stream.resumeToken as ResumeToken;
      const small = new ChangeStreamServer({ source: store, retain: 2 });
      const smallAddress = await small.listen();
      cleanup.push(() => small.close());
      for (let id = 10; id < 15; id += 1) await items.insertOne({ _id: id, name: 'filler', stock: 0 });
      const late = new ChangeStreamClient(`ws://${HOST}:${smallAddress.port}`);
      cleanup.push(() => late.close());
      const lost = await late.watch([], { resumeAfter: token }).next().catch((error: unknown) => error);
      if (!(lost instanceof ChangeStreamError) || lost.code !== 286) throw new Error(`expected error 286, got ${String(lost)}`);
      log(`a server keeping only 2 changes answers an old token with ${lost.code} ${lost.codeName}: no silent gap`);
      await stream.close();
      log(`client: closed, alive = ${stream.alive}`);
    } finally {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    }
  },
};
