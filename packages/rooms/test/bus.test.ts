import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, peerAvailable, startProcessPeer, startRedis, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  decodeBusMessage,
  encodeBusMessage,
  MemoryBus,
  type BusMessage,
  type BusSubscription,
  type RoomBus,
} from '../src/bus.js';
import { connect, type RoomClient } from '../src/client.js';
import { memory, type MemoryWire } from '../src/memory-wire.js';
import { RedisBus } from '../src/redis-bus.js';
import { bind } from '../src/server.js';
import { websocket } from '../src/websocket-listen.js';
import { awarenessMatches, docMatches, expectSameState, textIs } from './helpers.js';
import fc from 'fast-check';

async function node(bus: RoomBus): Promise<MemoryWire> {
  const wire = memory();
  const server = await bind(wire, { bus });
  useTeardown(() => server.close());
  return wire;
}

async function join(wire: MemoryWire, id: string): Promise<RoomClient> {
  const client = await connect(wire, { id });
  useTeardown(() => client.close());
  return client;
}

async function convergesAcrossNodes(busA: RoomBus, busB: RoomBus): Promise<void> {
  const nodeA = await node(busA);
  const nodeB = await node(busB);
  const alice = await join(nodeA, 'shared');
  alice.doc.getText('text').insert(0, 'before bob');
  await alice.flush();
  // Node B loads the room after A has content: it catches up over the bus.
  const bob = await join(nodeB, 'shared');
  await bob.synced;
  await textIs(bob.doc, 'before bob');

  bob.doc.getMap('map').set('from', 'bob');
  alice.doc.getMap('map').set('also', 'alice');
  await docMatches(alice.doc, (doc) => doc.getMap('map').get('from') === 'bob');
  await docMatches(bob.doc, (doc) => doc.getMap('map').get('also') === 'alice');
  expect(expectSameState(alice.doc, bob.doc)).toMatchObject({ same: true });

  alice.awareness.setLocalStateField('name', 'alice');
  await awarenessMatches(bob.awareness, (states) => states.get(alice.doc.clientID)?.['name'] === 'alice');
  await alice.close();
  await awarenessMatches(bob.awareness, (states) => !states.has(alice.doc.clientID), 'alice removed across nodes');
}

describe('room bus', () => {
  it('encodes and decodes every bus message', () => {
    const bytes = fc.uint8Array({ maxLength: 32 });
    const message: fc.Arbitrary<BusMessage> = fc.oneof(
      bytes.map((update) => ({ kind: 'update' as const, update })),
      bytes.map((update) => ({ kind: 'awareness' as const, update })),
      fc.tuple(bytes, fc.boolean()).map(([stateVector, join]) => ({ kind: 'state-vector' as const, stateVector, join })),
    );
    fc.assert(
      fc.property(fc.string(), message, (sender, value) => {
        expect(decodeBusMessage(encodeBusMessage(sender, value))).toEqual({ sender, message: value });
      }),
    );
    expect(() => decodeBusMessage(Uint8Array.of(0, 9))).toThrow(/unknown bus message kind/);
  });

  it('links two servers in one process through a MemoryBus', async () => {
    const bus = new MemoryBus();
    await convergesAcrossNodes(bus, bus);
  });

  it('exchanges state vectors again after the bus reconnects, recovering lost messages', async () => {
    // A bus that can lose its connection: messages published meanwhile are lost.
    class LossyBus implements RoomBus {
      readonly inner = new MemoryBus();
      down = false;
      readonly resyncs: (() => void)[] = [];
      async subscribe(
        roomId: string,
        onMessage: (message: BusMessage) => void,
        onResync?: () => void,
      ): Promise<BusSubscription> {
        if (onResync) this.resyncs.push(onResync);
        const subscription = await this.inner.subscribe(roomId, (message) => {
          if (!this.down) onMessage(message);
        });
        return {
          publish: (message) => {
            if (!this.down) subscription.publish(message);
          },
          unsubscribe: () => subscription.unsubscribe(),
        };
      }
      reconnect(): void {
        this.down = false;
        for (const resync of this.resyncs) resync();
      }
    }
    const bus = new LossyBus();
    const nodeA = await node(bus);
    const nodeB = await node(bus);
    const alice = await join(nodeA, 'lossy');
    const bob = await join(nodeB, 'lossy');
    await Promise.all([alice.synced, bob.synced]);
    bus.down = true;
    alice.doc.getText('text').insert(0, 'sent while the bus was down');
    await alice.flush();
    bob.doc.getMap('map').set('offline', true);
    await bob.flush();
    expect(bob.doc.getText('text').toString()).toBe('');
    bus.reconnect();
    await textIs(bob.doc, 'sent while the bus was down');
    await docMatches(alice.doc, (doc) => doc.getMap('map').get('offline') === true);
  });

  it('links two servers through Redis pub/sub', async () => {
    if (!(await peerAvailable('redis-server', hasCommand('redis-server')))) return;
    const redis = await startRedis();
    useTeardown(() => redis.stop());
    const busA = new RedisBus({ url: redis.url });
    const busB = new RedisBus({ url: redis.url });
    useTeardown(() => Promise.all([busA.close(), busB.close()]));
    await convergesAcrossNodes(busA, busB);
  });

  it('converges many concurrent edits on both nodes through Redis', async () => {
    if (!(await peerAvailable('redis-server', hasCommand('redis-server')))) return;
    const redis = await startRedis();
    useTeardown(() => redis.stop());
    const busA = new RedisBus({ url: redis.url });
    const busB = new RedisBus({ url: redis.url });
    useTeardown(() => Promise.all([busA.close(), busB.close()]));
    const [nodeA, nodeB] = [await node(busA), await node(busB)];
    const clients = [await join(nodeA, 'busy'), await join(nodeA, 'busy'), await join(nodeB, 'busy'), await join(nodeB, 'busy')];
    await Promise.all(clients.map((client) => client.synced));
    clients.forEach((client, index) => {
      for (let edit = 0; edit < 25; edit++) client.doc.getMap('map').set(`c${index}-${edit}`, edit);
    });
    for (const client of clients) await docMatches(client.doc, (doc) => doc.getMap('map').size === 100, 'all 100 keys');
    for (const client of clients.slice(1)) expect(expectSameState(clients[0]!.doc, client.doc)).toMatchObject({ same: true });
    expect(new Y.Doc().getMap('map').size).toBe(0);
  });

  it('links a server in another process through Redis: clients on both converge', async () => {
    if (!(await peerAvailable('redis-server', hasCommand('redis-server')))) return;
    const redis = await startRedis();
    useTeardown(() => redis.stop());
    const directory = mkdtempSync(joinPath(tmpdir(), 'rt-rooms-bus-'));
    useTeardown(() => rmSync(directory, { recursive: true, force: true }));
    const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
    const remote = await startProcessPeer({
      name: 'rooms-server',
      command: process.execPath,
      args: ['--conditions=@rt/source', '--import', 'tsx', joinPath(packageDirectory, 'test/peers/rooms-server.ts'), directory, redis.url],
      cwd: packageDirectory,
      readyPattern: /READY (\d+)/,
      timeoutMs: 20_000,
    });
    useTeardown(() => remote.stop());
    const busHere = new RedisBus({ url: redis.url });
    useTeardown(() => busHere.close());
    const local = await bind(websocket({ port: 0 }), { bus: busHere });
    useTeardown(() => local.close());

    const there = await connect(websocket({ port: remote.port! }), { id: 'two-processes' });
    useTeardown(() => there.close());
    await there.synced;
    there.doc.getText('text').insert(0, 'from the other process');
    await there.flush();
    const here = await connect(websocket({ port: local.port! }), { id: 'two-processes' });
    useTeardown(() => here.close());
    await here.synced;
    await textIs(here.doc, 'from the other process');
    here.doc.getMap('map').set('here', 1);
    there.doc.getMap('map').set('there', 2);
    await docMatches(there.doc, (doc) => doc.getMap('map').get('here') === 1);
    await docMatches(here.doc, (doc) => doc.getMap('map').get('there') === 2);
    expect(expectSameState(here.doc, there.doc)).toMatchObject({ same: true });
  });
});
