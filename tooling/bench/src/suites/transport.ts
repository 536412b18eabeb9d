import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  connectTcp,
  connectWebSocket,
  listenTcp,
  listenWebSocket,
  NewlineFramer,
  type Listener,
  type Transport,
} from '@rt/transport';
import { WebSocket, WebSocketServer } from 'ws';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// Echo round trips over loopback: the raw `ws` / `net` code a user would write by hand, against
// the same exchange over @rt/transport (both ends: its listener and its client).

const HOST = '127.0.0.1';
const PAYLOAD = JSON.stringify({ id: 12345, method: 'echo', params: ['a short message', 42, true] });
const SEQUENTIAL_BATCH = 200;
const IN_FLIGHT = 100;
const IN_FLIGHT_BATCH = 2_000;

/** A client connection that can send one message and hands every received message to `onMessage`. */
interface EchoLink {
  send(message: string): void;
  onMessage: (message: string) => void;
}

/** `count` round trips, the next sent only after the previous reply arrived. */
function pushSequential(link: EchoLink, count: number): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    link.onMessage = () => {
      received += 1;
      if (received === count) resolve(count);
      else link.send(PAYLOAD);
    };
    link.send(PAYLOAD);
  });
}

/** `count` round trips keeping `window` messages in flight. */
function pushWindowed(link: EchoLink, count: number, window: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    link.onMessage = () => {
      received += 1;
      if (received === count) resolve(count);
      else if (sent < count) {
        sent += 1;
        link.send(PAYLOAD);
      }
    };
    for (; sent < Math.min(window, count); sent += 1) link.send(PAYLOAD);
  });
}

async function pullSequential(transport: Transport, count: number): Promise<number> {
  for (let i = 0; i < count; i += 1) {
    transport.write(PAYLOAD);
    if ((await transport.receive()) === undefined) throw new Error('connection closed mid-batch');
  }
  return count;
}

async function pullWindowed(transport: Transport, count: number, window: number): Promise<number> {
  let sent = 0;
  for (; sent < Math.min(window, count); sent += 1) transport.write(PAYLOAD);
  for (let received = 0; received < count; received += 1) {
    if ((await transport.receive()) === undefined) throw new Error('connection closed mid-batch');
    if (sent < count) {
      sent += 1;
      transport.write(PAYLOAD);
    }
  }
  return count;
}

function assertEcho(reply: string | Uint8Array | undefined): void {
  if (reply !== PAYLOAD) throw new Error(`echo mismatch: got ${String(reply).slice(0, 80)}`);
}

// ---- raw ws ------------------------------------------------------------------------------------

async function rawWebSocket(mode: 'sequential' | 'windowed'): Promise<BenchTarget> {
  const server = new WebSocketServer({ host: HOST, port: 0 });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = new WebSocket(`ws://${HOST}:${port}`);
  await once(socket, 'open');
  const link: EchoLink = { send: (message) => socket.send(message), onMessage: () => undefined };
  socket.on('message', (data: Buffer) => link.onMessage(data.toString()));
  await new Promise<void>((resolve) => {
    link.onMessage = (reply) => {
      assertEcho(reply);
      resolve();
    };
    link.send(PAYLOAD);
  });
  return {
    run: () => (mode === 'sequential' ? pushSequential(link, SEQUENTIAL_BATCH) : pushWindowed(link, IN_FLIGHT_BATCH, IN_FLIGHT)),
    async teardown() {
      const closed = once(socket, 'close');
      socket.close();
      await closed;
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---- raw net, newline framed -------------------------------------------------------------------

/** Splits newline-delimited UTF-8 text from `socket` and calls `onLine` per line. */
function readLines(socket: Socket, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
  });
}

async function rawTcp(mode: 'sequential' | 'windowed'): Promise<BenchTarget> {
  const accepted = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted.add(socket);
    socket.on('close', () => accepted.delete(socket));
    socket.setNoDelay(true);
    readLines(socket, (line) => socket.write(`${line}\n`));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = connect({ host: HOST, port, noDelay: true });
  await once(socket, 'connect');
  const link: EchoLink = { send: (message) => socket.write(`${message}\n`), onMessage: () => undefined };
  readLines(socket, (line) => link.onMessage(line));
  await new Promise<void>((resolve) => {
    link.onMessage = (reply) => {
      assertEcho(reply);
      resolve();
    };
    link.send(PAYLOAD);
  });
  return {
    run: () => (mode === 'sequential' ? pushSequential(link, SEQUENTIAL_BATCH) : pushWindowed(link, IN_FLIGHT_BATCH, IN_FLIGHT)),
    async teardown() {
      const closed = once(socket, 'close');
      socket.end();
      await closed;
      for (const peer of accepted) peer.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---- @rt/transport -----------------------------------------------------------------------------

/** Echoes every message of every connection until it closes (push mode, like the raw servers' callbacks). */
function serveEcho(listener: Listener): void {
  listener.onConnection((transport) => {
    transport.onMessage((message) => {
      if (transport.state === 'open') transport.write(message);
    });
  });
}

async function rtTarget(listener: Listener, client: Transport, mode: 'sequential' | 'windowed'): Promise<BenchTarget> {
  client.write(PAYLOAD);
  assertEcho(await client.receive({ timeoutMs: 5_000 }));
  return {
    run: () => (mode === 'sequential' ? pullSequential(client, SEQUENTIAL_BATCH) : pullWindowed(client, IN_FLIGHT_BATCH, IN_FLIGHT)),
    async teardown() {
      await client.close();
      await listener.close();
    },
  };
}

async function rtWebSocket(mode: 'sequential' | 'windowed'): Promise<BenchTarget> {
  const listener = await listenWebSocket({ host: HOST, port: 0 });
  serveEcho(listener);
  return rtTarget(listener, await connectWebSocket(listener.url), mode);
}

async function rtTcp(mode: 'sequential' | 'windowed'): Promise<BenchTarget> {
  const listener = await listenTcp({ host: HOST, port: 0, framer: () => new NewlineFramer() });
  serveEcho(listener);
  const { port } = listener.address;
  return rtTarget(listener, await connectTcp({ host: HOST, port, framer: new NewlineFramer() }), mode);
}

// ---- scenarios ---------------------------------------------------------------------------------

function scenario(
  name: string,
  baseline: string,
  contender: string,
  setups: [raw: () => Promise<BenchTarget>, rt: () => Promise<BenchTarget>],
): BenchScenario {
  const cases: BenchCase[] = [
    { name: baseline, setup: setups[0] },
    { name: contender, setup: setups[1] },
  ];
  return { name, unit: 'msg', baseline, cases };
}

export const suite: BenchSuite = {
  name: 'transport',
  scenarios: [
    scenario('ws echo, one at a time', 'raw ws', '@rt/transport ws', [() => rawWebSocket('sequential'), () => rtWebSocket('sequential')]),
    scenario('ws echo, 100 in flight', 'raw ws', '@rt/transport ws', [() => rawWebSocket('windowed'), () => rtWebSocket('windowed')]),
    scenario('tcp newline echo, one at a time', 'raw net', '@rt/transport tcp', [() => rawTcp('sequential'), () => rtTcp('sequential')]),
    scenario('tcp newline echo, 100 in flight', 'raw net', '@rt/transport tcp', [() => rawTcp('windowed'), () => rtTcp('windowed')]),
  ],
};
