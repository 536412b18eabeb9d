import { createRequire } from 'node:module';
import { FaultProxy, peerAvailable, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DDPServer } from '../src/server/index.js';
import { DAY, exerciseItemsWithOort, itemMethods, npmPackage, Table, type OortDDPClient } from './helpers.js';

const require = createRequire(import.meta.url);


/** Our server on a real port, behind a fault proxy, with an `items` publication and methods. */
async function interopServer(): Promise<{ server: DDPServer; table: Table; proxy: FaultProxy }> {
  const table = new Table();
  table.insert('a', { name: 'A', at: new Date(1000) });
  const server = new DDPServer({ onError: () => undefined });
  server.publish('items', function () {
    table.publishTo(this, 'items');
  });
  server.methods({
    ...itemMethods(table),
  });
  const address = await server.listen({ port: 0 });
  const proxy = await FaultProxy.start({ target: address });
  useTeardown(async () => {
    await proxy.close();
    await server.close();
  });
  return { server, table, proxy };
}

function once<T>(subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => subscribe(resolve));
}

type Doc = Record<string, unknown>;

function byId(docs: Doc[], key = 'id'): Record<string, Doc> {
  const result: Record<string, Doc> = {};
  for (const doc of docs) {
    const { [key]: id, ...rest } = doc;
    result[String(id)] = rest;
  }
  return result;
}

const hasSimpleDDP = await peerAvailable('simpleddp', npmPackage('simpleddp'));
const hasDDP = await peerAvailable('ddp', npmPackage('ddp'));
const hasDDPjs = await peerAvailable('ddp.js', npmPackage('ddp.js'));

interface SimpleDDPClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(name: string, ...args: unknown[]): { ready(): Promise<void> };
  call(method: string, ...args: unknown[]): Promise<unknown>;
  collection(name: string): { fetch(): Doc[] };
  on(event: string, listener: (message: Record<string, unknown>) => void): { stop(): void };
}

describe.skipIf(!hasSimpleDDP)('interop: simpleddp client against DDPServer', () => {
  it('subscribes, sees added/changed/removed, calls methods with EJSON dates and reconnects', async () => {
    const { table, proxy } = await interopServer();
    const SimpleDDP = require('simpleddp') as new (options: Record<string, unknown>) => SimpleDDPClient;
    const client = new SimpleDDP({ endpoint: proxy.url('ws', '/websocket'), SocketConstructor: WebSocket, reconnectInterval: 20 });
    useTeardown(() => client.disconnect());
    await client.connect();
    const subscription = client.subscribe('items');
    await subscription.ready();
    expect(byId(client.collection('items').fetch())).toEqual({ a: { name: 'A', at: new Date(1000) } });

    const results: string[] = [];
    const updated: string[] = [];
    client.on('result', (message) => results.push(String(message['id'])));
    client.on('updated', (message) => updated.push(...(message['methods'] as string[])));
    expect(await client.call('add', 'b', 'B')).toBe('added b');
    await client.call('rename', 'a', 'A2');
    await client.call('drop', 'b');
    expect(await client.call('nextDay', new Date(0))).toEqual(new Date(DAY));
    await expect.poll(() => updated.length, { timeout: 5000 }).toBe(4);
    expect(new Set(updated)).toEqual(new Set(results));
    expect(byId(client.collection('items').fetch())).toEqual({ a: { name: 'A2' } });

    const reconnected = once<unknown>((resolve) => client.on('connected', resolve));
    proxy.cutAll();
    table.insert('c', { name: 'C' });
    await reconnected;
    await expect.poll(() => byId(client.collection('items').fetch()), { timeout: 5000 }).toEqual({ a: { name: 'A2' }, c: { name: 'C' } });
  });
});

describe.skipIf(!hasDDP)('interop: ddp (node-ddp-client) against DDPServer', () => {
  it('subscribes, observes changes, gets results and updated, and reconnects', async () => {
    const { table, proxy } = await interopServer();
    const NodeDDP = require('ddp') as new (options: Record<string, unknown>) => OortDDPClient;
    const client = new NodeDDP({
      host: proxy.host,
      port: proxy.port,
      autoReconnect: true,
      autoReconnectTimer: 20,
      maintainCollections: true,
      ddpVersion: '1',
    });
    useTeardown(() => client.close());
    const connections: boolean[] = [];
    const connectedOnce = once<void>((resolve) =>
      client.connect((error, wasReconnect) => {
        expect(error).toBeUndefined();
        connections.push(wasReconnect);
        resolve();
      }),
    );
    await connectedOnce;
    const call = await exerciseItemsWithOort(client);
    await expect(call('missing', [])).rejects.toThrow(/not found/);

    proxy.cutAll();
    table.insert('c', { name: 'C' });
    await expect.poll(() => connections, { timeout: 5000 }).toEqual([false, true]);
    await once<unknown>((resolve) => client.subscribe('items', [], resolve));
    expect(client.collections['items']).toEqual({ a: { _id: 'a', name: 'A2' }, c: { _id: 'c', name: 'C' } });
  });
});

interface DDPjsClient {
  connect(): void;
  disconnect(): void;
  sub(name: string, params: unknown[]): string;
  method(name: string, params: unknown[]): string;
  on(event: string, listener: (message: Record<string, unknown>) => void): void;
}

describe.skipIf(!hasDDPjs)('interop: ddp.js client against DDPServer', () => {
  it('subscribes, receives data messages, results with EJSON on the wire, and reconnects', async () => {
    const { table, proxy } = await interopServer();
    const DDP = (require('ddp.js') as { default: new (options: Record<string, unknown>) => DDPjsClient }).default;
    const client = new DDP({ endpoint: proxy.url('ws', '/websocket'), SocketConstructor: WebSocket, reconnectInterval: 20 });
    useTeardown(() => client.disconnect());
    const messages: Record<string, unknown>[] = [];
    for (const event of ['added', 'changed', 'removed', 'ready', 'result', 'updated', 'nosub']) {
      client.on(event, (message) => messages.push(message));
    }
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', () => events.push('disconnected'));
    await expect.poll(() => events, { timeout: 5000 }).toEqual(['connected']);

    const firstSub = client.sub('items', []);
    await expect.poll(() => messages.some((m) => m['msg'] === 'ready' && (m['subs'] as string[]).includes(firstSub)), { timeout: 5000 }).toBe(true);
    expect(messages[0]).toEqual({ msg: 'added', collection: 'items', id: 'a', fields: { name: 'A', at: { $date: 1000 } } });

    const methodId = client.method('nextDay', [{ $date: 0 }]);
    await expect.poll(() => messages.filter((m) => m['msg'] === 'updated' && (m['methods'] as string[]).includes(methodId)).length, { timeout: 5000 }).toBe(1);
    expect(messages.find((m) => m['msg'] === 'result' && m['id'] === methodId)).toEqual({ msg: 'result', id: methodId, result: { $date: DAY } });

    client.method('add', ['b', 'B']);
    client.method('rename', ['b', 'B2']);
    client.method('drop', ['b']);
    await expect.poll(() => messages.filter((m) => m['msg'] === 'removed').length, { timeout: 5000 }).toBe(1);
    expect(messages.filter((m) => ['added', 'changed', 'removed'].includes(String(m['msg']))).slice(1)).toEqual([
      { msg: 'added', collection: 'items', id: 'b', fields: { name: 'B' } },
      { msg: 'changed', collection: 'items', id: 'b', fields: { name: 'B2' } },
      { msg: 'removed', collection: 'items', id: 'b' },
    ]);

    proxy.cutAll();
    table.insert('c', { name: 'C' });
    await expect.poll(() => events, { timeout: 5000 }).toEqual(['connected', 'disconnected', 'connected']);
    messages.length = 0;
    const secondSub = client.sub('items', []);
    await expect.poll(() => messages.some((m) => m['msg'] === 'ready' && (m['subs'] as string[]).includes(secondSub)), { timeout: 5000 }).toBe(true);
    expect(messages.filter((m) => m['msg'] === 'added').map((m) => m['id'])).toEqual(['a', 'c']);
  });
});
