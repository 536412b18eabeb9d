import { createRequire } from 'node:module';
import { createMemoryPair, type Transport } from '@rt/transport';
import { afterEach, expect } from 'vitest';
import { DDPClient, type DDPClientEvents, type DDPClientOptions } from '../src/index.js';
import { DDPServer, type DDPServerOptions, type MethodHandler, type PublicationContext } from '../src/server/index.js';

type Json = Record<string, unknown>;

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Register teardown for the current test. */
export function onCleanup(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}

/** A DDP server that is closed after the test; errors it reports are collected. */
export function testServer(options: DDPServerOptions = {}): { server: DDPServer; errors: unknown[] } {
  const errors: unknown[] = [];
  const server = new DDPServer({ onError: (error) => errors.push(error), ...options });
  onCleanup(() => server.close());
  return { server, errors };
}

/** A hand-driven DDP peer on an in-memory transport: send raw messages, read the replies. */
export class RawPeer {
  readonly transport: Transport;
  readonly #buffer: Json[] = [];

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Send an object as JSON, or a string as is. */
  send(message: Json | string): void {
    this.transport.write(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, whatever it is. */
  async next(): Promise<Json> {
    const buffered = this.#buffer.shift();
    if (buffered) return buffered;
    const raw = await this.transport.receive({ timeoutMs: 5000 });
    if (raw === undefined) throw new Error('the server closed the connection');
    return JSON.parse(raw as string) as Json;
  }

  /** The next message of type `msg`, keeping the ones skipped (pings are answered and dropped). */
  async expect(msg: string): Promise<Json> {
    const index = this.#buffer.findIndex((item) => item['msg'] === msg);
    if (index >= 0) return this.#buffer.splice(index, 1)[0] as Json;
    for (;;) {
      const raw = await this.transport.receive({ timeoutMs: 5000 });
      if (raw === undefined) throw new Error(`the server closed the connection while waiting for '${msg}'`);
      const message = JSON.parse(raw as string) as Json;
      if (message['msg'] === msg) return message;
      this.#buffer.push(message);
    }
  }

  /** Messages received but not yet taken. */
  get pending(): readonly Json[] {
    return this.#buffer;
  }

  /** Connect with DDP 1 and return the `connected` message. */
  async handshake(version = '1', support = ['1', 'pre2', 'pre1']): Promise<Json> {
    this.send({ msg: 'connect', version, support });
    return this.expect('connected');
  }
}

/** Connect a raw peer to `server` over an in-memory pair. */
export function rawPeer(server: DDPServer): RawPeer {
  const [client, serverEnd] = createMemoryPair();
  server.accept(serverEnd, { remoteAddress: '127.0.0.1' });
  onCleanup(() => client.close());
  return new RawPeer(client);
}

/** A client wired to `server` through in-memory pairs; `cut()` drops the current connection. */
export function memoryClient(
  server: DDPServer,
  options: DDPClientOptions = {},
): { client: DDPClient; cut: () => void; connections: () => number } {
  const open = new Set<Transport>();
  let count = 0;
  const client = new DDPClient('ws://memory/websocket', {
    reconnect: { minDelayMs: 1, baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
    transport: async () => {
      const [clientEnd, serverEnd] = createMemoryPair();
      count += 1;
      open.add(clientEnd);
      void clientEnd.closed.then(() => open.delete(clientEnd));
      server.accept(serverEnd, { remoteAddress: '127.0.0.1' });
      return clientEnd;
    },
  });
  onCleanup(() => client.disconnect());
  return {
    client,
    cut: () => {
      for (const transport of open) transport.abort(new Error('cut'));
    },
    connections: () => count,
  };
}

/** Resolve the next time `client` emits `event` (with its arguments). */
export function nextEvent<K extends keyof DDPClientEvents>(client: DDPClient, event: K): Promise<DDPClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.on(event, (...args) => {
      off();
      resolve(args);
    });
  });
}

/** A tiny observable table for publications in tests: publish it, write to it from methods. */
export class Table {
  readonly rows = new Map<string, Record<string, unknown>>();
  readonly #observers = new Set<{ added(id: string, row: Record<string, unknown>): void; changed(id: string, fields: Record<string, unknown>): void; removed(id: string): void }>();

  insert(id: string, row: Record<string, unknown>): void {
    this.rows.set(id, row);
    for (const observer of this.#observers) observer.added(id, row);
  }

  update(id: string, fields: Record<string, unknown>): void {
    const row = { ...this.rows.get(id), ...fields };
    for (const [key, value] of Object.entries(fields)) if (value === undefined) delete row[key];
    this.rows.set(id, row);
    for (const observer of this.#observers) observer.changed(id, fields);
  }

  remove(id: string): void {
    this.rows.delete(id);
    for (const observer of this.#observers) observer.removed(id);
  }

  /** Publish every row into `collection` from a publication context, live. */
  publishTo(context: PublicationContext, collection: string): void {
    for (const [id, row] of this.rows) context.added(collection, id, row);
    const observer = {
      added: (id: string, row: Record<string, unknown>) => context.added(collection, id, row),
      changed: (id: string, fields: Record<string, unknown>) => context.changed(collection, id, fields),
      removed: (id: string) => context.removed(collection, id),
    };
    this.#observers.add(observer);
    context.onStop(() => {
      this.#observers.delete(observer);
    });
    context.ready();
  }
}

export const DAY = 86_400_000;

/** The methods the interop tests call on an `items` table: add, rename (clearing `at`), drop, nextDay. */
export function itemMethods(table: Table): Record<string, MethodHandler> {
  return {
    add(id: string, name: string) {
      table.insert(id, { name });
      return `added ${id}`;
    },
    rename(id: string, name: string) {
      table.update(id, { name, at: undefined });
    },
    drop(id: string) {
      table.remove(id);
    },
    nextDay(date: Date) {
      return new Date(date.getTime() + DAY);
    },
  };
}

/** The slice of the npm `ddp` client (node-ddp-client, by Oort) the interop tests use. */
export interface OortDDPClient {
  collections: Record<string, Record<string, Record<string, unknown>>>;
  connect(callback: (error: unknown, wasReconnect: boolean) => void): void;
  close(): void;
  subscribe(name: string, params: unknown[], ready: (error?: unknown) => void): string;
  call(name: string, params: unknown[], result: (error: unknown, value: unknown) => void, updated: () => void): void;
  observe(name: string): { added?: (id: string) => void; changed?: (id: string) => void; removed?: (id: string) => void; stop(): void };
}

const requireFromTests = createRequire(import.meta.url);

/** A `peerAvailable` check for an npm peer package (a devDependency of @rt/ddp). */
export function npmPackage(name: string): () => { available: boolean; reason?: string } {
  return () => {
    try {
      requireFromTests.resolve(name);
      return { available: true };
    } catch {
      return { available: false, reason: `npm package '${name}' is not installed (a devDependency of @rt/ddp)` };
    }
  };
}

/** Record node-ddp's observe callbacks on `collection` as `added <id>`, `changed <id>`, `removed <id>`. */
export function observeOort(client: OortDDPClient, collection: string): string[] {
  const observed: string[] = [];
  const observer = client.observe(collection);
  observer.added = (id) => observed.push(`added ${id}`);
  observer.changed = (id) => observed.push(`changed ${id}`);
  observer.removed = (id) => observed.push(`removed ${id}`);
  return observed;
}

/** node-ddp's callback-style call as a promise of the result, with a promise of its `updated`. */
export function callOort(client: OortDDPClient, name: string, params: unknown[]): Promise<{ value: unknown; updated: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let markUpdated!: () => void;
    const updated = new Promise<void>((done) => (markUpdated = done));
    client.call(name, params, (error, value) => (error ? reject(new Error(JSON.stringify(error))) : resolve({ value, updated })), () => markUpdated());
  });
}

/**
 * With node-ddp connected to a server serving `items` (document `a`) and `itemMethods`:
 * subscribe, then add, rename, drop and nextDay, checking results, `updated` and the observed
 * events. Returns the promise-style call for further steps.
 */
export async function exerciseItemsWithOort(client: OortDDPClient): Promise<(name: string, params: unknown[]) => ReturnType<typeof callOort>> {
  await new Promise<unknown>((resolve) => client.subscribe('items', [], resolve));
  expect(client.collections['items']).toEqual({ a: { _id: 'a', name: 'A', at: new Date(1000) } });
  const observed = observeOort(client, 'items');
  const call = (name: string, params: unknown[]) => callOort(client, name, params);
  const added = await call('add', ['b', 'B']);
  expect(added.value).toBe('added b');
  await added.updated;
  await (await call('rename', ['a', 'A2'])).updated;
  await (await call('drop', ['b'])).updated;
  expect((await call('nextDay', [new Date(0)])).value).toEqual(new Date(DAY));
  expect(observed).toEqual(['added b', 'changed a', 'removed b']);
  return call;
}
