import { FaultProxy, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { connect, type RoomClient } from '../src/client.js';
import { bind, type RoomServer } from '../src/server.js';
import { MemoryStore } from '../src/store.js';
import { websocket } from '../src/websocket-listen.js';
import { docMatches, expectSameState, nextEvent } from './helpers.js';

async function startServer(store: MemoryStore, port = 0): Promise<RoomServer> {
  const server = await bind(websocket({ port }), { store });
  useTeardown(() => server.close());
  return server;
}

async function startProxy(server: RoomServer): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port! } });
  useTeardown(() => proxy.close());
  return proxy;
}

async function clientsThrough(proxy: FaultProxy, count: number): Promise<RoomClient[]> {
  const clients: RoomClient[] = [];
  for (let index = 0; index < count; index++) {
    const client = await connect(websocket({ port: proxy.port }), {
      id: 'faulty',
      reconnect: { initialDelayMs: 5, maxDelayMs: 50, jitter: 0 },
    });
    useTeardown(() => client.close());
    clients.push(client);
  }
  await Promise.all(clients.map((client) => client.synced));
  return clients;
}

/** Each client makes `count` edits, text and map, spread over several ticks. */
async function editBurst(clients: RoomClient[], round: number, count: number): Promise<void> {
  for (let step = 0; step < count; step++) {
    clients.forEach((client, index) => {
      client.doc.getMap('map').set(`r${round}-c${index}-${step}`, step);
      client.doc.getText('text').insert(0, `${index}`);
    });
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function expectedKeys(clients: RoomClient[], rounds: number, count: number): number {
  return clients.length * rounds * count;
}

async function converged(clients: RoomClient[], server: RoomServer, keys: number): Promise<void> {
  for (const client of clients) await docMatches(client.doc, (doc) => doc.getMap('map').size === keys, `${keys} keys`);
  await Promise.all(clients.map((client) => client.flush()));
  const room = server.rooms.get('faulty')!;
  for (const client of clients) {
    expect(expectSameState(client.doc, room.doc)).toMatchObject({ same: true });
  }
}

describe('faults through FaultProxy', () => {
  it('converges after every connection is cut mid-edit, twice', async () => {
    const store = new MemoryStore();
    const server = await startServer(store);
    const proxy = await startProxy(server);
    const clients = await clientsThrough(proxy, 3);

    const burst = editBurst(clients, 0, 30);
    await new Promise((resolve) => setImmediate(resolve));
    proxy.cutAll();
    await burst;
    await Promise.all(
      clients.map((client) =>
        client.isSynced ? undefined : nextEvent<[boolean]>((listener) => client.on('synced', listener), (synced) => synced),
      ),
    );
    const second = editBurst(clients, 1, 30);
    proxy.cutAll();
    await second;
    await converged(clients, server, expectedKeys(clients, 2, 30));
    expect(proxy.acceptedCount).toBeGreaterThanOrEqual(9);
  });

  it('converges when the server itself goes down mid-edit and comes back', async () => {
    const store = new MemoryStore();
    const first = await startServer(store);
    const proxy = await startProxy(first);
    const clients = await clientsThrough(proxy, 3);

    const burst = editBurst(clients, 0, 40);
    await new Promise((resolve) => setImmediate(resolve));
    await first.close();
    await burst;
    // Clients keep editing offline while no server answers.
    await editBurst(clients, 1, 10);
    const second = await startServer(store);
    proxy.setTarget({ host: '127.0.0.1', port: second.port! });
    await converged(clients, second, expectedKeys(clients, 1, 40) + expectedKeys(clients, 1, 10));
    expect(store.recordCount('faulty')).toBeGreaterThan(0);
  });
});
