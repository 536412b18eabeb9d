import { createServer, connect as connectNet, type Socket } from 'node:net';
import { ContentLengthFramer } from '@rt/transport';
import jayson from 'jayson/promise/index.js';
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';
import {
  CancellationTokenSource,
  createMessageConnection,
  type MessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession } from '../src/client-session.js';
import { REQUEST_CANCELLED } from '../src/codes.js';
import type { RPCRequest } from '../src/incoming-request.js';
import { RPCError } from '../src/rpc-error.js';
import { ServerSession } from '../src/server-session.js';
import { startServer, testHandlers, track } from './helpers.js';

async function openSocket(port: number): Promise<Socket> {
  const socket = connectNet(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  onTestFinished(() => {
    socket.destroy();
  });
  return socket;
}

function vscodeConnection(socket: Socket): MessageConnection {
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  onTestFinished(() => connection.dispose());
  return connection;
}

class CallbackSession extends ServerSession {
  readonly started: RPCRequest[] = [];

  protected override handleRequest(request: RPCRequest): unknown {
    switch (request.method) {
      case 'call_back':
        return this.sendRequest('double', request.params);
      case 'wait':
        this.started.push(request);
        return new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason as Error));
        });
      case 'fail':
        throw new RPCError(-32050, 'failed here', { why: 'testing' });
      default:
        return super.handleRequest(request);
    }
  }
}

describe('interop with vscode-jsonrpc (Content-Length framing)', () => {
  it('a vscode-jsonrpc client calls our Server, answers its requests and cancels', async () => {
    const sessions: CallbackSession[] = [];
    const { address } = await startServer(
      () => {
        const session = new CallbackSession({ handlers: testHandlers });
        sessions.push(session);
        return session;
      },
      { framer: () => new ContentLengthFramer() },
    );
    const connection = vscodeConnection(await openSocket(address.port));
    connection.onRequest('double', (value: number) => value * 2);
    connection.listen();
    expect(await connection.sendRequest('add', 2, 40)).toBe(42);
    expect(await connection.sendRequest('greet', { name: 'vs' })).toBe('hello vs');
    expect(await connection.sendRequest('call_back', 21)).toBe(42);
    const failure = await connection.sendRequest('fail').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ResponseError);
    expect(failure).toMatchObject({ code: -32050, message: 'failed here', data: { why: 'testing' } });
    const source = new CancellationTokenSource();
    const waiting = connection.sendRequest('wait', source.token).catch((error: unknown) => error);
    await expect.poll(() => sessions[0]?.started.length).toBe(1);
    source.cancel();
    const cancelled = await waiting;
    expect(cancelled).toBeInstanceOf(ResponseError);
    expect((cancelled as ResponseError<unknown>).code).toBe(REQUEST_CANCELLED);
    expect(sessions[0]?.started[0]?.signal.aborted).toBe(true);
  });

  it('our ClientSession calls a vscode-jsonrpc server, answers its requests and cancels', async () => {
    const cancelled: boolean[] = [];
    const tcp = createServer((socket) => {
      const connection = vscodeConnection(socket);
      connection.onRequest('add', (a: number, b: number) => a + b);
      connection.onRequest('named', (params: { x: number }) => params.x + 1);
      connection.onRequest('fail', () => new ResponseError(-32010, 'vs failed', { extra: 1 }));
      connection.onRequest('ask', async () => (await connection.sendRequest('double', 5)) as number);
      connection.onRequest('wait', (token) => {
        return new Promise((resolve) => {
          token.onCancellationRequested(() => {
            cancelled.push(true);
            resolve('late');
          });
        });
      });
      connection.listen();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => tcp.close(() => resolve())));
    const port = (tcp.address() as { port: number }).port;
    const client = new ClientSession('127.0.0.1', port, {
      framer: new ContentLengthFramer(),
      handlers: { double: (value: number) => value * 2 },
    });
    await client.createConnection();
    track(client);
    expect(await client.sendRequest('add', [1, 2])).toBe(3);
    expect(await client.sendRequest('named', { x: 41 })).toBe(42);
    await expect(client.sendRequest('fail')).rejects.toMatchObject({ code: -32010, message: 'vs failed', data: { extra: 1 } });
    expect(await client.sendRequest('ask')).toBe(10);
    const controller = new AbortController();
    const waiting = client.sendRequest('wait', [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect.poll(() => cancelled.length).toBe(1);
  });
});

describe('interop with json-rpc-2.0 and jayson clients', () => {
  it('a json-rpc-2.0 client calls our Server over newline TCP', async () => {
    const { address } = await startServer(() => new CallbackSession({ handlers: testHandlers }));
    const socket = await openSocket(address.port);
    const client: JSONRPCClient = new JSONRPCClient((payload: unknown) => {
      socket.write(JSON.stringify(payload) + '\n');
    });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        client.receive(JSON.parse(buffer.slice(0, end)) as JSONRPCResponse | JSONRPCResponse[]);
        buffer = buffer.slice(end + 1);
      }
    });
    expect(await client.request('add', [20, 22])).toBe(42);
    expect(await client.request('greet', { name: 'j2' })).toBe('hello j2');
    await expect(client.request('fail', [])).rejects.toMatchObject({ code: -32050, message: 'failed here', data: { why: 'testing' } });
    await expect(client.request('missing', [])).rejects.toMatchObject({ code: -32601 });
    const batch = await client.requestAdvanced([
      { jsonrpc: '2.0', method: 'add', params: [1, 1], id: 100 },
      { jsonrpc: '2.0', method: 'echo', params: ['b'], id: 101 },
    ]);
    expect(batch.map((response) => response.result)).toEqual([2, 'b']);
  });

  it('a jayson TCP client calls our Server', async () => {
    const { address } = await startServer(() => new CallbackSession({ handlers: testHandlers }));
    const client = jayson.client.tcp({ host: address.host, port: address.port });
    expect(await client.request('add', [5, 6])).toMatchObject({ jsonrpc: '2.0', result: 11 });
    expect(await client.request('greet', { name: 'jay' })).toMatchObject({ result: 'hello jay' });
    expect(await client.request('fail', [])).toMatchObject({
      error: { code: -32050, message: 'failed here', data: { why: 'testing' } },
    });
    const batch = (await client.request([
      client.request('add', [1, 2], undefined, false),
      client.request('echo', ['x'], undefined, false),
    ])) as { result: unknown }[];
    expect(batch.map((response) => response.result)).toEqual([3, 'x']);
  });
});
