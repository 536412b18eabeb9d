import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// Yjs room servers side by side: @rt/rooms, @y/websocket-server (the y-websocket reference
// backend) and @hocuspocus/server. Each server runs in its own process (so it gets its own
// core and its memory can be measured alone); the load comes from raw WebSocket clients in
// this process that speak y-protocols (with Hocuspocus's document-name prefix for it).

type ServerKind = 'rt' | 'y-websocket-server' | 'hocuspocus';

const HOST = '127.0.0.1';
const EDITORS = 50;
const EDITS_PER_EDITOR = 4;
const IDLE_ROOMS = 30;
const DOC_BYTES = 100_000;
/** Rooms are measured after sitting idle this long (@rt/rooms hibernates idle documents after 10 s by default). */
const IDLE_SETTLE_MS = 16_000;
const SERVER_ENV = 'RT_ROOMS_BENCH_SERVER';

const MESSAGE_SYNC = 0;
const MESSAGE_AUTH = 2;
const SYNC_STEP1 = 0;
const SYNC_STEP2 = 1;
const SYNC_UPDATE = 2;
const HOCUSPOCUS_SYNC_REPLY = 4;
const EMPTY_STATE_VECTOR = Uint8Array.of(0);

// ---------------------------------------------------------------------------------------
// Server side: this file is also the entry point of the server child processes.

interface ServerReply {
  port?: number;
  memory?: number;
}

async function runServer(kind: ServerKind): Promise<void> {
  const port = await startServer(kind);
  const send = (reply: ServerReply): void => {
    process.send?.(reply);
  };
  process.on('message', (command: string) => {
    if (command !== 'memory') return;
    const collect = (globalThis as { gc?: () => void }).gc;
    for (let pass = 0; pass < 3; pass++) collect?.();
    const usage = process.memoryUsage();
    send({ memory: usage.heapUsed + usage.external });
  });
  process.on('disconnect', () => process.exit(0));
  send({ port });
}

async function startServer(kind: ServerKind): Promise<number> {
  if (kind === 'rt') {
    const { bind, websocket } = await import('@rt/rooms');
    const server = await bind(websocket({ host: HOST, port: 0 }), { unloadDelayMs: 60_000 });
    return server.port ?? 0;
  }
  if (kind === 'y-websocket-server') {
    const [{ setupWSConnection }, { WebSocketServer }, http] = await Promise.all([
      import('@y/websocket-server/utils'),
      import('ws'),
      import('node:http'),
    ]);
    const sockets = new WebSocketServer({ noServer: true });
    const server = http.createServer((_request, response) => response.end('okay'));
    server.on('upgrade', (request, socket, head) => {
      sockets.handleUpgrade(request, socket, head, (ws) => setupWSConnection(ws, request));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }
  const { Server } = await import('@hocuspocus/server');
  const server = new Server({ port: 0, address: HOST, quiet: true, stopOnSignals: false });
  await server.listen();
  return server.address.port;
}

if (process.env[SERVER_ENV]) await runServer(process.env[SERVER_ENV] as ServerKind);

/** A server child process. */
interface ServerProcess {
  port: number;
  memory(): Promise<number>;
  stop(): Promise<void>;
}

async function spawnServer(kind: ServerKind): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [SERVER_ENV]: kind },
    execArgv: ['--conditions=@rt/source', '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = async (): Promise<ServerReply> => (await once(child, 'message'))[0] as ServerReply;
  const ready = await next();
  return {
    port: ready.port ?? 0,
    memory: async () => {
      const reply = next();
      child.send('memory');
      return (await reply).memory ?? 0;
    },
    stop: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Client side: raw y-protocols clients.

/** A client's view of one incoming sync message (the rest is ignored). */
interface SyncFrame {
  subtype: number;
  payload: Uint8Array;
}

class RawClient {
  readonly doc = new Y.Doc();
  readonly #socket: WebSocket;
  readonly #prefix: Uint8Array;
  onSync: (frame: SyncFrame) => void = () => undefined;

  private constructor(socket: WebSocket, prefix: Uint8Array) {
    this.#socket = socket;
    this.#prefix = prefix;
    socket.on('message', (data: Buffer) => {
      const frame = this.#parse(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (frame) this.onSync(frame);
    });
  }

  /** Connect to `room` on a server of `kind` and finish the handshake. */
  static async open(kind: ServerKind, port: number, room: string): Promise<RawClient> {
    const url = kind === 'hocuspocus' ? `ws://${HOST}:${port}` : `ws://${HOST}:${port}/${room}`;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await once(socket, 'open');
    const prefix = kind === 'hocuspocus' ? withEncoder((encoder) => encoding.writeVarString(encoder, room)) : new Uint8Array();
    const client = new RawClient(socket, prefix);
    if (kind === 'hocuspocus') {
      client.#send(MESSAGE_AUTH, (encoder) => {
        encoding.writeVarUint(encoder, 0);
        encoding.writeVarString(encoder, 'token');
      });
    }
    await client.sync();
    return client;
  }

  /** Send sync step 1 (our state vector unless given) and wait for the server's step 2. */
  sync(stateVector: Uint8Array = Y.encodeStateVector(this.doc)): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.onSync;
      this.onSync = (frame) => {
        if (frame.subtype !== SYNC_STEP2) return previous(frame);
        this.onSync = previous;
        resolve();
      };
      this.#send(MESSAGE_SYNC, (encoder) => {
        encoding.writeVarUint(encoder, SYNC_STEP1);
        encoding.writeVarUint8Array(encoder, stateVector);
      });
    });
  }

  /** Send a whole document state as sync step 2. */
  upload(state: Uint8Array): void {
    this.#send(MESSAGE_SYNC, (encoder) => {
      encoding.writeVarUint(encoder, SYNC_STEP2);
      encoding.writeVarUint8Array(encoder, state);
    });
  }

  /** Make one edit and send it as an update; returns the struct id `client:clock` it created. */
  edit(value: number): string {
    const clock = Y.getState(this.doc.store, this.doc.clientID);
    let update: Uint8Array | undefined;
    const capture = (next: Uint8Array): void => {
      update = next;
    };
    this.doc.once('update', capture);
    this.doc.getMap('bench').set(`k${this.doc.clientID}`, value);
    this.#send(MESSAGE_SYNC, (encoder) => {
      encoding.writeVarUint(encoder, SYNC_UPDATE);
      encoding.writeVarUint8Array(encoder, update ?? new Uint8Array());
    });
    return `${this.doc.clientID}:${clock}`;
  }

  close(): void {
    this.#socket.terminate();
    this.doc.destroy();
  }

  #send(type: number, body: (encoder: encoding.Encoder) => void): void {
    this.#socket.send(
      withEncoder((encoder) => {
        encoding.writeUint8Array(encoder, this.#prefix);
        encoding.writeVarUint(encoder, type);
        body(encoder);
      }),
    );
  }

  #parse(bytes: Uint8Array): SyncFrame | undefined {
    const decoder = decoding.createDecoder(bytes);
    if (this.#prefix.length > 0) decoding.readVarString(decoder);
    const type = decoding.readVarUint(decoder);
    if (type !== MESSAGE_SYNC && type !== HOCUSPOCUS_SYNC_REPLY) return undefined;
    const subtype = decoding.readVarUint(decoder);
    return { subtype, payload: decoding.readVarUint8Array(decoder) };
  }
}

function withEncoder(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** The ids `client:clock` of every struct in an update: one per edit (a server may merge several). */
function editIds(update: Uint8Array): string[] {
  const { from, to } = Y.parseUpdateMeta(update);
  const ids: string[] = [];
  for (const [client, start] of from) {
    const end = to.get(client) ?? start;
    for (let clock = start; clock < end; clock++) ids.push(`${client}:${clock}`);
  }
  return ids;
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------
// Scenario: one room, 50 clients editing at once.

async function editingRoom(kind: ServerKind): Promise<BenchTarget> {
  const server = await spawnServer(kind);
  const clients: RawClient[] = [];
  for (let index = 0; index < EDITORS; index++) clients.push(await RawClient.open(kind, server.port, 'bench-room'));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let delivered = 0;
  let onDelivered: (() => void) | undefined;
  for (const client of clients) {
    client.onSync = (frame) => {
      if (frame.subtype !== SYNC_UPDATE) return;
      const now = performance.now();
      const own = `${client.doc.clientID}:`;
      for (const id of editIds(frame.payload)) {
        const started = sentAt.get(id);
        // Echoes of a client's own edits (some servers send them) are not deliveries.
        if (started === undefined || id.startsWith(own)) continue;
        latencies.push(now - started);
        delivered++;
      }
      onDelivered?.();
    };
  }
  return {
    async run() {
      const target = delivered + EDITORS * EDITS_PER_EDITOR * (EDITORS - 1);
      const done = new Promise<void>((resolve) => {
        onDelivered = () => {
          if (delivered >= target) resolve();
        };
      });
      for (let round = 0; round < EDITS_PER_EDITOR; round++) {
        for (const client of clients) sentAt.set(client.edit(round), performance.now());
      }
      await done;
      return EDITORS * EDITS_PER_EDITOR * (EDITORS - 1);
    },
    extra: () => ({
      'p50 ms': Number(percentile(latencies, 0.5).toFixed(1)),
      'p99 ms': Number(percentile(latencies, 0.99).toFixed(1)),
    }),
    async teardown() {
      for (const client of clients) client.close();
      await server.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Scenario: idle rooms each holding a 100 kB document.

function hundredKilobyteDoc(): Uint8Array {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  let seed = 7;
  const random = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  while (Y.encodeStateAsUpdate(doc).length < DOC_BYTES) {
    for (let edit = 0; edit < 100; edit++) {
      text.insert(Math.floor(random() * (text.length + 1)), `word${edit} `.repeat(5));
    }
  }
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return state;
}

async function idleRooms(kind: ServerKind): Promise<BenchTarget> {
  const server = await spawnServer(kind);
  const state = hundredKilobyteDoc();
  const before = await server.memory();
  const holders: RawClient[] = [];
  for (let index = 0; index < IDLE_ROOMS; index++) {
    const holder = await RawClient.open(kind, server.port, `idle-${index}`);
    holder.upload(state);
    await holder.sync();
    holders.push(holder);
  }
  await sleep(IDLE_SETTLE_MS);
  const after = await server.memory();
  const perRoom = (after - before) / IDLE_ROOMS;
  const reader = await RawClient.open(kind, server.port, 'idle-0');
  return {
    async run() {
      // One full sync of a 100 kB room, asked for with an empty state vector.
      await reader.sync(EMPTY_STATE_VECTOR);
      return 1;
    },
    extra: () => ({ 'kB per idle room': Math.round(perRoom / 1024), 'doc kB': Math.round(state.length / 1024) }),
    async teardown() {
      reader.close();
      for (const holder of holders) holder.close();
      await server.stop();
    },
  };
}

function cases(setup: (kind: ServerKind) => Promise<BenchTarget>): BenchCase[] {
  return [
    { name: '@rt/rooms', setup: () => setup('rt') },
    { name: '@y/websocket-server 0.1.1', setup: () => setup('y-websocket-server') },
    { name: '@hocuspocus/server 3.4', setup: () => setup('hocuspocus') },
  ];
}

const scenarios: BenchScenario[] = [
  {
    name: `one room, ${EDITORS} clients editing (updates delivered)`,
    unit: 'update',
    baseline: '@y/websocket-server 0.1.1',
    cases: cases(editingRoom),
  },
  {
    name: `${IDLE_ROOMS} idle rooms with a 100 kB document (full syncs)`,
    unit: 'sync',
    baseline: '@y/websocket-server 0.1.1',
    cases: cases(idleRooms),
  },
];

export const suite: BenchSuite = { name: 'rooms', scenarios };
