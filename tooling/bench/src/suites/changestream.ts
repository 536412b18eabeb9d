import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChangeStreamClient, type ChangeStream, type ChangeStreamDocument } from '@rt/changestream';
import { ChangeStreamServer, EmbeddedStore } from '@rt/changestream/server';
import { FaultProxy } from '@rt/test-harness';
import { WebSocket, WebSocketServer } from 'ws';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// Change events end to end over loopback WebSocket: a write into the embedded store, through
// the change stream server, to a client's `next()`; against raw `ws` pushing the same JSON
// event per message as the floor. Latency is measured per event from the write call to its
// arrival. A second scenario times a resume: the connection is cut, one write is made, and the
// stream returns that change on a fresh connection.

const HOST = '127.0.0.1';
const EVENTS = 2_000;
const WRITE_CHUNK = 100;

type Doc = { _id: number; title: string; price: number; tags: string[] };

function makeDocument(id: number): Doc {
  return { _id: id, title: `Item number ${id}`, price: id * 0.25, tags: ['bench', 'changestream'] };
}

/** An event shaped as the server sends it, for the raw baseline. */
function rawEvent(id: number): string {
  return JSON.stringify({
    _id: { _data: id.toString(16).padStart(26, '0') },
    operationType: 'insert',
    clusterTime: { t: 1_700_000_000, i: id },
    wallTime: { $date: new Date().toISOString() },
    fullDocument: makeDocument(id),
    ns: { db: 'bench', coll: 'items' },
    documentKey: { _id: id },
  });
}

/** p99 of a sample set, in milliseconds with two decimals. */
function p99(latencies: number[]): number {
  if (latencies.length === 0) return Number.NaN;
  const sorted = [...latencies].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number) * 100) / 100;
}

interface Gateway {
  store: EmbeddedStore;
  server: ChangeStreamServer;
  port: number;
  close(): Promise<void>;
}

async function startGateway(): Promise<Gateway> {
  const directory = await mkdtemp(join(tmpdir(), 'rt-bench-changestream-'));
  const store = await EmbeddedStore.open(directory, { sync: false });
  const server = new ChangeStreamServer({ source: store });
  const { port } = await server.listen();
  return {
    store,
    server,
    port,
    close: async () => {
      await server.close();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function changeStreamCase(name: string, batchSize: number): BenchCase {
  return {
    name,
    async setup(): Promise<BenchTarget> {
      const gateway = await startGateway();
      const client = new ChangeStreamClient(`ws://${HOST}:${gateway.port}`);
      const stream: ChangeStream<ChangeStreamDocument<Doc>> = client.db('bench').collection<Doc>('items').watch([], { batchSize });
      await stream.ready();
      const items = gateway.store.db('bench').collection<Doc>('items');
      const latencies: number[] = [];
      let next = 0;
      return {
        run: async () => {
          const first = next;
          next += EVENTS;
          const writtenAt = new Map<number, number>();
          const writes: Promise<unknown>[] = [];
          for (let start = first; start < first + EVENTS; start += WRITE_CHUNK) {
            writtenAt.set(start, performance.now());
            writes.push(items.insertMany(Array.from({ length: WRITE_CHUNK }, (_, index) => makeDocument(start + index))));
          }
          for (let received = 0; received < EVENTS; received += 1) {
            const change = await stream.next();
            const id = change.documentKey?.['_id'] as number;
            if (id !== first + received) throw new Error(`${name}: expected change ${first + received}, got ${id}`);
            const chunkStart = id - ((id - first) % WRITE_CHUNK);
            latencies.push(performance.now() - (writtenAt.get(chunkStart) as number));
          }
          await Promise.all(writes);
          return EVENTS;
        },
        teardown: async () => {
          await client.close();
          await gateway.close();
        },
        extra: () => ({ 'p99 ms': p99(latencies) }),
      };
    },
  };
}

const rawWsCase: BenchCase = {
  name: 'raw ws',
  async setup(): Promise<BenchTarget> {
    const server = new WebSocketServer({ host: HOST, port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address() as { port: number };
    const connected = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const socket = new WebSocket(`ws://${HOST}:${address.port}`);
    await new Promise((resolve) => socket.once('open', resolve));
    const serverSocket = await connected;
    const latencies: number[] = [];
    let onMessage: (data: string) => void = () => undefined;
    socket.on('message', (data) => onMessage(String(data)));
    let next = 0;
    return {
      run: () =>
        new Promise<number>((resolve, reject) => {
          const first = next;
          next += EVENTS;
          const sentAt = new Map<number, number>();
          let received = 0;
          onMessage = (data) => {
            const event = JSON.parse(data) as { documentKey: { _id: number } };
            const id = event.documentKey._id;
            if (id !== first + received) reject(new Error(`raw ws: expected ${first + received}, got ${id}`));
            const chunkStart = id - ((id - first) % WRITE_CHUNK);
            latencies.push(performance.now() - (sentAt.get(chunkStart) as number));
            received += 1;
            if (received === EVENTS) resolve(EVENTS);
          };
          for (let start = first; start < first + EVENTS; start += WRITE_CHUNK) {
            sentAt.set(start, performance.now());
            for (let id = start; id < start + WRITE_CHUNK; id += 1) serverSocket.send(rawEvent(id));
          }
        }),
      teardown: async () => {
        socket.close();
        await new Promise((resolve) => server.close(resolve));
      },
      extra: () => ({ 'p99 ms': p99(latencies) }),
    };
  },
};

const RESUMES = 20;

const resumeCase: BenchCase = {
  name: 'changestream resume',
  async setup(): Promise<BenchTarget> {
    const gateway = await startGateway();
    const proxy = await FaultProxy.start({ target: { host: HOST, port: gateway.port } });
    const client = new ChangeStreamClient(proxy.url('ws'), { reconnect: { initialDelayMs: 1, maxDelayMs: 20 } });
    const stream = client.db('bench').collection<Doc>('items').watch([], { batchSize: 1 });
    await stream.ready();
    const items = gateway.store.db('bench').collection<Doc>('items');
    const times: number[] = [];
    let next = 0;
    return {
      run: async () => {
        for (let round = 0; round < RESUMES; round += 1) {
          const started = performance.now();
          proxy.cutAll();
          await items.insertOne(makeDocument(next));
          const change = await stream.next();
          if (change.documentKey?.['_id'] !== next) throw new Error('resume: wrong change');
          next += 1;
          times.push(performance.now() - started);
        }
        return RESUMES;
      },
      teardown: async () => {
        await client.close();
        await proxy.close();
        await gateway.close();
      },
      extra: () => ({ 'p50 ms': Math.round([...times].sort((a, b) => a - b)[times.length >> 1]! * 100) / 100 }),
    };
  },
};

const rawReconnectCase: BenchCase = {
  name: 'raw ws reconnect',
  async setup(): Promise<BenchTarget> {
    const server = new WebSocketServer({ host: HOST, port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    server.on('connection', (socket) => socket.send(rawEvent(0)));
    const times: number[] = [];
    return {
      run: async () => {
        for (let round = 0; round < RESUMES; round += 1) {
          const started = performance.now();
          const socket = new WebSocket(`ws://${HOST}:${port}`);
          await new Promise((resolve) => socket.once('message', resolve));
          socket.terminate();
          times.push(performance.now() - started);
        }
        return RESUMES;
      },
      teardown: () => new Promise((resolve) => server.close(() => resolve())),
      extra: () => ({ 'p50 ms': Math.round([...times].sort((a, b) => a - b)[times.length >> 1]! * 100) / 100 }),
    };
  },
};

const events: BenchScenario = {
  name: `change events, write to client (${EVENTS} per batch, written ${WRITE_CHUNK} at a time)`,
  unit: 'event',
  baseline: 'raw ws',
  cases: [rawWsCase, changeStreamCase('changestream batchSize 1', 1), changeStreamCase('changestream batchSize 100', 100)],
};

const resume: BenchScenario = {
  name: 'resume after a cut (cut, write one change, receive it)',
  unit: 'resume',
  baseline: 'raw ws reconnect',
  cases: [rawReconnectCase, resumeCase],
};

export const suite: BenchSuite = { name: 'changestream', scenarios: [events, resume] };
