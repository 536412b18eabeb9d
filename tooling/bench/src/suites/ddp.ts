import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DDPClient } from '@rt/ddp';
import { DDPServer } from '@rt/ddp/server';
import WebSocket, { WebSocketServer } from 'ws';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// DDP over loopback WebSocket: our DDPClient, simpleddp and ddp.js, with a raw `ws` client
// that only parses messages as the floor. Each subscription batch opens a fresh connection,
// subscribes to 10,000 documents, waits for `ready` with every document in the client's
// collection, and disconnects; method batches keep 500 calls in flight. Every scenario runs
// twice: against @rt/ddp/server, and against a replay server that answers from pre-encoded
// frames, so only the clients' own cost is measured. Servers run in a worker thread (this
// same file), so their work overlaps the client's instead of adding to it.

const HOST = '127.0.0.1';
const DOCUMENTS = 10_000;
const CALLS_IN_FLIGHT = 500;

const require = createRequire(import.meta.url);

/** The slice of simpleddp this suite uses. */
interface SimpleDDPClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(name: string, ...args: unknown[]): { ready(): Promise<void> };
  call(method: string, ...args: unknown[]): Promise<unknown>;
  collection(name: string): { fetch(): unknown[] };
}
const SimpleDDP = require('simpleddp') as new (options: Record<string, unknown>) => SimpleDDPClient;

/** The slice of ddp.js this suite uses. */
interface DDPjsClient {
  disconnect(): void;
  sub(name: string, params: unknown[]): string;
  method(name: string, params: unknown[]): string;
  on(event: string, listener: (message: Record<string, unknown>) => void): void;
}
const DDPjs = (require('ddp.js') as { default: new (options: Record<string, unknown>) => DDPjsClient }).default;

/** What the worker serves: our DDP server, or a replay of pre-encoded frames (client cost only). */
type ServerKind = 'ddp' | 'replay';

interface Running {
  url: string;
  close(): Promise<void>;
}

function benchDocuments(): { id: string; fields: Record<string, unknown> }[] {
  return Array.from({ length: DOCUMENTS }, (_, index) => ({
    id: `doc${index}`,
    fields: { index, title: `Document number ${index}`, tags: ['bench', 'ddp'], score: index * 0.5, active: index % 2 === 0 },
  }));
}

/** Our DDP server. */
async function serveDDP(): Promise<Running> {
  const documents = benchDocuments();
  const server = new DDPServer({ heartbeatIntervalMs: 0 });
  server.publish('docs', function () {
    for (const document of documents) this.added('docs', document.id, document.fields);
    this.ready();
  });
  server.methods({ echo: (value: unknown) => value });
  const { port } = await server.listen({ host: HOST, port: 0 });
  return { url: `ws://${HOST}:${port}/websocket`, close: () => server.close() };
}

/** One unmasked WebSocket text frame, as a server sends it. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, length]) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 65_536) {
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else if (length >= 65_536) {
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

/**
 * A stand-in server that answers from pre-encoded frames written straight to the socket in
 * one write, so the measurement is the client's own cost.
 */
async function serveReplay(): Promise<Running> {
  const subscription = Buffer.concat(
    benchDocuments().map((document) =>
      textFrame(JSON.stringify({ msg: 'added', collection: 'docs', id: document.id, fields: document.fields })),
    ),
  );
  const wss = new WebSocketServer({ host: HOST, port: 0, path: '/websocket' });
  await once(wss, 'listening');
  wss.on('connection', (socket) => {
    const raw = (socket as unknown as { _socket: Socket })._socket;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { msg: string; id?: string; params?: unknown[] };
      if (message.msg === 'connect') raw.write(textFrame(JSON.stringify({ msg: 'connected', session: 'replay' })));
      else if (message.msg === 'ping') raw.write(textFrame(JSON.stringify({ msg: 'pong', id: message.id })));
      else if (message.msg === 'sub') {
        raw.write(Buffer.concat([subscription, textFrame(JSON.stringify({ msg: 'ready', subs: [message.id] }))]));
      } else if (message.msg === 'method') {
        const result = textFrame(JSON.stringify({ msg: 'result', id: message.id, result: message.params?.[0] }));
        raw.write(Buffer.concat([result, textFrame(JSON.stringify({ msg: 'updated', methods: [message.id] }))]));
      }
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://${HOST}:${port}/websocket`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

const WORKER_FLAG = 'rt-ddp-bench-server';

if (!isMainThread && (workerData as { flag?: string } | undefined)?.flag === WORKER_FLAG) {
  const kind = (workerData as { kind: ServerKind }).kind;
  const running = kind === 'ddp' ? await serveDDP() : await serveReplay();
  parentPort?.on('message', () => {
    void running.close().then(() => parentPort?.close());
  });
  parentPort?.postMessage(running.url);
}

/** Start a server in a worker thread (so its work overlaps the client's); resolves its URL and a close. */
async function startServer(kind: ServerKind): Promise<Running> {
  // Workers do not inherit the tsx loader: register it, then load this file as the server.
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(code, { eval: true, workerData: { flag: WORKER_FLAG, kind } });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (message: string) => resolve(message));
    worker.once('error', reject);
  });
  return {
    url,
    close: async () => {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

/** A subscription case: `load` connects, fills a collection, disconnects; resolves the document count. */
function subscriptionCase(name: string, load: (url: string) => Promise<number>): (kind: ServerKind) => BenchCase {
  return (kind) => ({
    name,
    async setup(): Promise<BenchTarget> {
      const server = await startServer(kind);
      return {
        run: async () => {
          const count = await load(server.url);
          if (count !== DOCUMENTS) throw new Error(`${name}: got ${count} documents, expected ${DOCUMENTS}`);
          return count;
        },
        teardown: () => server.close(),
      };
    },
  });
}

/** A method case: `connect` returns a function doing one call, and a close. */
function methodCase(
  name: string,
  connect: (url: string) => Promise<{ call(value: unknown): Promise<unknown>; close(): Promise<void> }>,
): (kind: ServerKind) => BenchCase {
  return (kind) => ({
    name,
    async setup(): Promise<BenchTarget> {
      const server = await startServer(kind);
      const client = await connect(server.url);
      const value = { text: 'a short message', n: 42, ok: true };
      return {
        run: async () => {
          const calls: Promise<unknown>[] = [];
          for (let index = 0; index < CALLS_IN_FLIGHT; index += 1) calls.push(client.call(value));
          await Promise.all(calls);
          return CALLS_IN_FLIGHT;
        },
        teardown: async () => {
          await client.close();
          await server.close();
        },
      };
    },
  });
}

const ours = subscriptionCase('@rt/ddp', async (url) => {
  const client = new DDPClient(url, { heartbeat: false, reconnect: false });
  await client.connect();
  await client.subscribe('docs').wait();
  const count = client.getCollection('docs').size;
  await client.disconnect();
  return count;
});

const simpleddp = subscriptionCase('simpleddp', async (url) => {
  const client = new SimpleDDP({ endpoint: url, SocketConstructor: WebSocket, autoReconnect: false });
  await client.connect();
  await client.subscribe('docs').ready();
  const count = client.collection('docs').fetch().length;
  await client.disconnect();
  return count;
});

const ddpjs = subscriptionCase('ddp.js (+ Map)', (url) =>
  new Promise((resolve) => {
    const client = new DDPjs({ endpoint: url, SocketConstructor: WebSocket, autoReconnect: false });
    const documents = new Map<string, unknown>();
    client.on('added', (message) => documents.set(message['id'] as string, { _id: message['id'], ...(message['fields'] as object) }));
    client.on('connected', () => {
      const id = client.sub('docs', []);
      client.on('ready', (message) => {
        if (!(message['subs'] as string[]).includes(id)) return;
        client.disconnect();
        resolve(documents.size);
      });
    });
  }),
);

const raw = subscriptionCase('raw ws + JSON.parse', (url) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let added = 0;
    socket.on('error', reject);
    socket.on('open', () => {
      socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
      socket.send(JSON.stringify({ msg: 'sub', id: 's', name: 'docs', params: [] }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { msg?: string };
      if (message.msg === 'added') added += 1;
      else if (message.msg === 'ready') {
        socket.close();
        resolve(added);
      }
    });
  }),
);

const subscriptionCases = [ours, simpleddp, ddpjs, raw];

const methodCases = [
  methodCase('@rt/ddp', async (url) => {
    const client = new DDPClient(url, { heartbeat: false, reconnect: false });
    await client.connect();
    return { call: (value) => client.call('echo', value), close: () => client.disconnect() };
  }),
  methodCase('simpleddp', async (url) => {
    const client = new SimpleDDP({ endpoint: url, SocketConstructor: WebSocket, autoReconnect: false });
    await client.connect();
    return { call: (value) => client.call('echo', value), close: () => client.disconnect() };
  }),
  methodCase('ddp.js', (url) =>
    new Promise((resolve) => {
      const client = new DDPjs({ endpoint: url, SocketConstructor: WebSocket, autoReconnect: false });
      const pending = new Map<string, (value: unknown) => void>();
      client.on('result', (message) => {
        const settle = pending.get(message['id'] as string);
        pending.delete(message['id'] as string);
        settle?.(message['result']);
      });
      client.on('connected', () =>
        resolve({
          call: (value) => new Promise((done) => pending.set(client.method('echo', [value]), done)),
          close: async () => client.disconnect(),
        }),
      );
    }),
  ),
];

const SERVERS: { kind: ServerKind; label: string }[] = [
  { kind: 'ddp', label: 'against @rt/ddp/server' },
  { kind: 'replay', label: 'client cost only (pre-encoded replay server)' },
];

export const suite: BenchSuite = {
  name: 'ddp',
  scenarios: SERVERS.flatMap(({ kind, label }): BenchScenario[] => [
    {
      name: `${DOCUMENTS.toLocaleString('en')}-document subscription into a client collection, ${label}`,
      unit: 'doc',
      baseline: 'ddp.js (+ Map)',
      cases: subscriptionCases.map((make) => make(kind)),
    },
    {
      name: `method calls, ${CALLS_IN_FLIGHT} in flight, ${label}`,
      unit: 'call',
      baseline: 'ddp.js',
      cases: methodCases.map((make) => make(kind)),
    },
  ]),
};
