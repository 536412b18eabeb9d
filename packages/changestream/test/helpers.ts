import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTeardown } from '@rt/test-harness';
import { AsyncQueue, connectWebSocket, type Transport } from '@rt/transport';
import { ChangeStreamClient, parseWire, stringifyWire, type ChangeStreamClientOptions } from '../src/index.js';
import { ChangeStreamServer, EmbeddedStore, type ChangeSource, type EmbeddedStoreOptions, type ChangeStreamServerOptions } from '../src/server.js';

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rt-changestream-'));
  useTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An embedded store in a temporary directory, closed after the test. */
export async function openStore(directory?: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const store = await EmbeddedStore.open(directory ?? (await tempDir()), { sync: false, ...options });
  useTeardown(() => store.close());
  return store;
}

/** A server on loopback port 0, closed after the test. */
export async function startServer(
  source: ChangeSource,
  options: Omit<ChangeStreamServerOptions, 'source'> = {},
): Promise<{ server: ChangeStreamServer; url: string; port: number }> {
  const server = new ChangeStreamServer({ source, ...options });
  const { host, port } = await server.listen();
  useTeardown(() => server.close());
  return { server, url: `ws://${host}:${port}`, port };
}

/** A client, closed after the test. */
export function client(url: string, options: ChangeStreamClientOptions = {}): ChangeStreamClient {
  const created = new ChangeStreamClient(url, { serverSelectionTimeoutMS: 10_000, ...options });
  useTeardown(() => created.close());
  return created;
}

/** A protocol-level connection: send raw requests, read replies by id. */
export interface RawConnection {
  transport: Transport;
  /** Send a request (an id is added when missing) and wait for its reply. */
  request(body: Record<string, unknown>): Promise<Record<string, unknown> & { ok: 0 | 1; code?: number }>;
  /** Send one raw frame. */
  send(frame: string | Uint8Array): void;
  /** The next reply not claimed by `request`. */
  nextUnmatched(): Promise<Record<string, unknown>>;
}

/** Open a raw WebSocket connection to a server, closed after the test. */
export async function rawConnection(url: string): Promise<RawConnection> {
  const transport = await connectWebSocket(url, { timeoutMs: 5000 });
  useTeardown(() => transport.close());
  const waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  const unmatched = new AsyncQueue<Record<string, unknown>>();
  let nextId = 1000;
  void (async () => {
    for await (const message of transport) {
      const reply = parseWire(typeof message === 'string' ? message : new TextDecoder().decode(message)) as Record<string, unknown>;
      const resolve = typeof reply['id'] === 'number' ? waiting.get(reply['id']) : undefined;
      if (resolve) {
        waiting.delete(reply['id'] as number);
        resolve(reply);
      } else unmatched.push(reply);
    }
  })();
  return {
    transport,
    request: (body) => {
      const id = typeof body['id'] === 'number' ? body['id'] : (nextId += 1);
      const reply = new Promise<Record<string, unknown>>((resolve) => waiting.set(id, resolve));
      transport.write(stringifyWire({ ...body, id }));
      return reply as Promise<Record<string, unknown> & { ok: 0 | 1; code?: number }>;
    },
    send: (frame) => void transport.write(frame),
    nextUnmatched: async () => (await unmatched.shift()) as Record<string, unknown>,
  };
}

/** The events and token of a cursor reply. */
export function batchOf(reply: Record<string, unknown>): { id: number; events: Record<string, unknown>[]; token: { _data: string } } {
  const cursor = reply['cursor'] as { id: number; firstBatch?: unknown[]; nextBatch?: unknown[]; postBatchResumeToken: { _data: string } };
  return { id: cursor.id, events: (cursor.firstBatch ?? cursor.nextBatch ?? []) as Record<string, unknown>[], token: cursor.postBatchResumeToken };
}
