import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, connect as connectNet, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, Server, ServerSession } from '@rt/jsonrpc';
import jayson from 'jayson/promise/index.js';
import { JSONRPCClient, JSONRPCServer, type JSONRPCResponse } from 'json-rpc-2.0';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// JSON-RPC echo calls over loopback TCP: a hand-written newline + JSON exchange as the
// baseline, @rt/jsonrpc, and the peer libraries, each with its own server and client.

const HOST = '127.0.0.1';
const VALUE = { text: 'a short message', n: 42, ok: true };
const SEQUENTIAL_BATCH = 200;
const IN_FLIGHT = 100;
const IN_FLIGHT_BATCH = 2_000;
const AIORPCX_SERVER = fileURLToPath(new URL('../../../../packages/jsonrpc/test/peers/aiorpcx_server.py', import.meta.url));
const DEBIAN_PYTHON = '/usr/bin/python3';

/** One connected client of one implementation. */
interface EchoClient {
  call(value: unknown): Promise<unknown>;
  close(): Promise<void>;
}

async function listenNet(server: NetServer): Promise<number> {
  server.listen(0, HOST);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connectNet({ host: HOST, port, noDelay: true });
  await once(socket, 'connect');
  return socket;
}

function closeNet(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Calls `onLine` for every newline-terminated line arriving on `socket`. */
function readLines(socket: Socket, onLine: (line: string) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let start = 0;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n', start)) {
      onLine(buffer.slice(start, end));
      start = end + 1;
    }
    buffer = buffer.slice(start);
  });
}

/** The baseline: what a user writes by hand with `net`, newline framing and `JSON`. */
async function rawNewline(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    readLines(socket, (line) => {
      const request = JSON.parse(line) as { id: number; params: unknown[] };
      socket.write(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params[0] }) + '\n');
    });
  });
  const socket = await openSocket(await listenNet(server));
  const waiting = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  readLines(socket, (line) => {
    const reply = JSON.parse(line) as { id: number; result: unknown };
    waiting.get(reply.id)?.(reply.result);
    waiting.delete(reply.id);
  });
  return {
    client: {
      call(value) {
        const id = nextId++;
        socket.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: [value] }) + '\n');
        return new Promise((resolve) => waiting.set(id, resolve));
      },
      async close() {
        socket.destroy();
      },
    },
    async stop() {
      for (const open of sockets) open.destroy();
      await closeNet(server);
    },
  };
}

async function ours(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const server = new Server(() => new ServerSession({ handlers: { echo: (value: unknown) => value } }));
  const address = await server.listen();
  const session = await connect(address.url);
  return {
    client: {
      call: (value) => session.sendRequest('echo', [value]),
      async close() {
        await session.close();
      },
    },
    stop: () => server.close(),
  };
}

async function jsonRpc2(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const rpc = new JSONRPCServer();
  rpc.addMethod('echo', (params: unknown) => (params as unknown[])[0]);
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    readLines(socket, (line) => {
      void rpc.receiveJSON(line).then((reply) => {
        if (reply) socket.write(JSON.stringify(reply) + '\n');
      });
    });
  });
  const socket = await openSocket(await listenNet(server));
  const client: JSONRPCClient = new JSONRPCClient((payload: unknown) => {
    socket.write(JSON.stringify(payload) + '\n');
  });
  readLines(socket, (line) => client.receive(JSON.parse(line) as JSONRPCResponse));
  return {
    client: {
      call: (value) => client.request('echo', [value]) as Promise<unknown>,
      async close() {
        socket.destroy();
      },
    },
    async stop() {
      for (const open of sockets) open.destroy();
      await closeNet(server);
    },
  };
}

async function jaysonTcp(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const server = new jayson.Server({ echo: async (params: unknown) => (params as unknown[])[0] }).tcp();
  const port = await listenNet(server as unknown as NetServer);
  // jayson's TCP client opens one connection per call, as the library does.
  const client = jayson.client.tcp({ host: HOST, port });
  return {
    client: {
      call: async (value) => ((await client.request('echo', [value])) as { result: unknown }).result,
      async close() {},
    },
    stop: () => closeNet(server as unknown as NetServer),
  };
}

async function vscodeJsonrpc(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    connection.onRequest('echo', (value: unknown) => value);
    connection.listen();
  });
  const socket = await openSocket(await listenNet(server));
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  return {
    client: {
      call: (value) => connection.sendRequest('echo', value),
      async close() {
        connection.dispose();
        socket.destroy();
      },
    },
    async stop() {
      for (const open of sockets) open.destroy();
      await closeNet(server);
    },
  };
}

/** aiorpcx's server (Debian python3-aiorpcx) answering @rt/jsonrpc's client. */
async function aiorpcxServer(): Promise<{ client: EchoClient; stop(): Promise<void> }> {
  if (!existsSync(DEBIAN_PYTHON)) throw new Error(`${DEBIAN_PYTHON} is missing (apt-get install python3-aiorpcx)`);
  const child = spawn(DEBIAN_PYTHON, ['-u', AIORPCX_SERVER, 'tcp'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const ready = /READY (\d+)/.exec(output);
      if (ready) resolve(Number(ready[1]));
    });
    child.once('exit', (code) => reject(new Error(`the aiorpcx server exited with ${code}`)));
  });
  const session = await connect(`tcp://${HOST}:${port}`);
  return {
    client: {
      call: (value) => session.sendRequest('echo', [value]),
      async close() {
        await session.close();
      },
    },
    async stop() {
      child.kill();
      await once(child, 'exit');
    },
  };
}

/**
 * An aiorpcx client in the same Python process as its aiorpcx server, driven over stdin:
 * each line `<count> <window>` runs that many echo calls with that many in flight and
 * answers `done`. It measures aiorpcx on both ends.
 */
const AIORPCX_BOTH_ENDS = `
import asyncio, sys
from aiorpcx import RPCSession, connect_rs, serve_rs

class Echo(RPCSession):
    async def handle_request(self, request):
        return request.args[0]

async def main():
    server = await serve_rs(Echo, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    value = {'text': 'a short message', 'n': 42, 'ok': True}
    async with connect_rs('127.0.0.1', port) as session:
        print('READY', flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            count, window = (int(part) for part in line.split())
            started = 0
            async def worker():
                nonlocal started
                while started < count:
                    started += 1
                    await session.send_request('echo', [value])
            await asyncio.gather(*(worker() for _ in range(window)))
            print('done', flush=True)

asyncio.run(main())
`;

/** Runs `AIORPCX_BOTH_ENDS`; `call` is not used, `run(count, window)` drives whole batches. */
async function aiorpcxBothEnds(): Promise<{ run(count: number, window: number): Promise<void>; stop(): Promise<void> }> {
  if (!existsSync(DEBIAN_PYTHON)) throw new Error(`${DEBIAN_PYTHON} is missing (apt-get install python3-aiorpcx)`);
  const child = spawn(DEBIAN_PYTHON, ['-u', '-c', AIORPCX_BOTH_ENDS], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters: (() => void)[] = [];
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    let end = output.indexOf('\n');
    while (end >= 0) {
      output = output.slice(end + 1);
      waiters.shift()?.();
      end = output.indexOf('\n');
    }
  });
  const next = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));
  await next();
  return {
    async run(count, window) {
      const done = next();
      child.stdin.write(`${count} ${window}\n`);
      await done;
    },
    async stop() {
      child.stdin.end();
      child.kill();
      await once(child, 'exit');
    },
  };
}

type Implementation = () => Promise<{ client: EchoClient; stop(): Promise<void> }>;

const implementations: [string, Implementation][] = [
  ['raw newline TCP + JSON', rawNewline],
  ['@rt/jsonrpc', ours],
  ['json-rpc-2.0', jsonRpc2],
  ['jayson (TCP)', jaysonTcp],
  ['vscode-jsonrpc (Nagle off)', vscodeJsonrpc],
  ['aiorpcx server (Python) + @rt/jsonrpc client', aiorpcxServer],
];

async function sequential(client: EchoClient): Promise<number> {
  for (let i = 0; i < SEQUENTIAL_BATCH; i += 1) await client.call(VALUE);
  return SEQUENTIAL_BATCH;
}

async function inFlight(client: EchoClient): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < IN_FLIGHT_BATCH) {
      started += 1;
      await client.call(VALUE);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return IN_FLIGHT_BATCH;
}

function cases(drive: (client: EchoClient) => Promise<number>, count: number, window: number): BenchCase[] {
  const pythonOnly: BenchCase = {
    name: 'aiorpcx (Python client + server)',
    async setup(): Promise<BenchTarget> {
      const python = await aiorpcxBothEnds();
      return {
        async run() {
          await python.run(count, window);
          return count;
        },
        teardown: () => python.stop(),
      };
    },
  };
  return [...implementations.map(([name, start]) => ({
    name,
    async setup(): Promise<BenchTarget> {
      const { client, stop } = await start();
      const check = await client.call(VALUE);
      if (JSON.stringify(check) !== JSON.stringify(VALUE)) throw new Error(`${name} echoed ${JSON.stringify(check)}`);
      return {
        run: () => drive(client),
        async teardown() {
          await client.close();
          await stop();
        },
      };
    },
  })), pythonOnly];
}

const scenarios: BenchScenario[] = [
  { name: 'echo calls, one at a time', unit: 'call', baseline: 'raw newline TCP + JSON', cases: cases(sequential, SEQUENTIAL_BATCH, 1) },
  { name: `echo calls, ${IN_FLIGHT} in flight`, unit: 'call', baseline: 'raw newline TCP + JSON', cases: cases(inFlight, IN_FLIGHT_BATCH, IN_FLIGHT) },
];

export const suite: BenchSuite = { name: 'jsonrpc', scenarios };
