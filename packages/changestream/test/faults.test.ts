import { FaultProxy, useTeardown } from '@rt/test-harness';
import { delay } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import type { ChangeStreamDocument } from '../src/index.js';
import { ChangeStreamServer } from '../src/server.js';
import { client, openStore } from './helpers.js';

const WRITES = 10_000;
const BATCH = 25;

describe('faults', () => {
  it(`delivers ${WRITES} writes exactly once, in order, through cuts and server restarts`, async () => {
    const store = await openStore();
    let server = new ChangeStreamServer({ source: store });
    let address = await server.listen();
    useTeardown(() => server.close());
    const proxy = await FaultProxy.start({ target: address });
    useTeardown(() => proxy.close());
    const stream = client(proxy.url('ws'), { reconnect: { initialDelayMs: 5, maxDelayMs: 50 } })
      .db('app')
      .collection('items')
      .watch<ChangeStreamDocument<{ _id: number }>>([], { batchSize: 100, maxAwaitTimeMS: 200 });
    await stream.ready();
    let resumes = 0;
    stream.on('resumed', () => (resumes += 1));

    const received: number[] = [];
    const writer = (async () => {
      const items = store.db('app').collection<{ _id: number }>('items');
      for (let start = 0; start < WRITES; start += BATCH) {
        await items.insertMany(Array.from({ length: BATCH }, (_, index) => ({ _id: start + index })));
        await delay(1);
      }
    })();
    writer.catch(() => undefined);

    const chaos = (async () => {
      let round = 0;
      while (received.length < WRITES) {
        await delay(15);
        round += 1;
        if (round % 12 === 0) {
          // Restart the server on the same store, on a new port.
          await server.close();
          server = new ChangeStreamServer({ source: store });
          address = await server.listen();
          proxy.setTarget(address);
        } else proxy.cutAll();
      }
    })();
    chaos.catch(() => undefined);

    while (received.length < WRITES) {
      const change = await stream.next();
      received.push(change.documentKey?.['_id'] as number);
    }
    await Promise.all([writer, chaos]);
    expect(received.length).toBe(WRITES);
    const outOfOrder = received.findIndex((id, index) => id !== index);
    expect(outOfOrder).toBe(-1);
    expect(resumes).toBeGreaterThan(5);
    // Nothing more is pending: a last tryNext finds no duplicate.
    expect(await stream.tryNext()).toBeNull();
  });
});
