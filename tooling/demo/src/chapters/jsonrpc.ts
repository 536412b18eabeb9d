import { connect as connectNet } from 'node:net';
import {
  ClientSession,
  connect,
  RPCError,
  Server,
  ServerSession,
  type RPCRequest,
} from '@rt/jsonrpc';
import { ConnectionError, TimeoutError, waitFor } from '@rt/transport';
import type { Chapter } from '../chapter.js';

type Log = (line: string) => void;

const STEP_TIMEOUT_MS = 5_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return waitFor(promise, { timeoutMs: STEP_TIMEOUT_MS, what });
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The demo's server session: a few methods, one of which calls the client back. */
class CalculatorSession extends ServerSession {
  protected override handleRequest(request: RPCRequest): unknown {
    switch (request.method) {
      case 'add':
        return (request.params as number[]).reduce((sum, value) => sum + value, 0);
      case 'divide': {
        const { a, b } = request.params as { a: number; b: number };
        if (b === 0) throw new RPCError(-32000, 'division by zero', { a, b });
        return a / b;
      }
      case 'askClient':
        return this.sendRequest('clientName');
      case 'hang':
        return new Promise(() => undefined);
      default:
        return super.handleRequest(request);
    }
  }
}

/** Send raw lines to the server and collect the replies, to show the wire format. */
async function rawExchange(port: number, lines: string[], replies: number): Promise<string[]> {
  const socket = connectNet(port, '127.0.0.1');
  try {
    socket.setEncoding('utf8');
    let received = '';
    const done = new Promise<string[]>((resolve) => {
      socket.on('data', (chunk: string) => {
        received += chunk;
        const complete = received.split('\n').slice(0, -1);
        if (complete.length >= replies) resolve(complete);
      });
    });
    socket.write(lines.map((line) => line + '\n').join(''));
    return await within(done, 'raw replies');
  } finally {
    socket.destroy();
  }
}

async function requestsAndBatches(log: Log, url: string): Promise<void> {
  const client = await within(connect(url, { handlers: { clientName: () => 'demo client' } }), 'connect');
  try {
    const sum = await client.sendRequest('add', [1, 2, 3]);
    log(`add(1, 2, 3) → ${JSON.stringify(sum)}`);
    expectEqual(sum, 6, 'add');
    const error = await client.sendRequest('divide', { a: 1, b: 0 }).catch((caught: unknown) => caught);
    if (!(error instanceof RPCError)) throw new Error('divide by zero should fail with an RPCError');
    log(`divide({ a: 1, b: 0 }) → RPCError ${error.code} "${error.message}" data=${JSON.stringify(error.data)}`);
    const named = await client.sendRequest('askClient');
    log(`askClient → the server asked the client back and got ${JSON.stringify(named)}`);
    expectEqual(named, 'demo client', 'server-to-client request');
    const results = await client.sendBatch((batch) => {
      batch.addRequest('add', [10, 20]);
      batch.addNotification('add', [0]);
      batch.addRequest('nope');
      batch.addRequest('divide', { a: 9, b: 3 });
    });
    log(`batch → [${results.map((result) => (result instanceof RPCError ? `RPCError ${result.code}` : JSON.stringify(result))).join(', ')}]`);
    expectEqual(results[0], 30, 'batch add');
    expectEqual((results[1] as RPCError).code, -32601, 'batch unknown method');
    const late = await client.sendRequest('hang', [], { timeoutMs: 100 }).catch((caught: unknown) => caught);
    if (!(late instanceof TimeoutError)) throw new Error('hang should time out');
    log(`hang with timeoutMs 100 → TimeoutError`);
  } finally {
    await client.close();
  }
}

async function specEdgeCases(log: Log, port: number): Promise<void> {
  const lines = [
    '{"jsonrpc":"2.0","method":"add","params":[1,1],"id":null}',
    '{"jsonrpc":"2.0","method":1}',
    '{"jsonrpc":"2.0","method":"add","params":5,"id":7}',
    'not json',
    '[]',
    '[1]',
    '[{"jsonrpc":"2.0","method":"add","params":[1]}]',
    '{"jsonrpc":"2.0","method":"add","params":[2,2],"id":"last"}',
  ];
  const replies = await rawExchange(port, lines, 7);
  for (const [index, reply] of replies.entries()) log(`${index < 6 ? lines[index] : lines[index + 1]}  →  ${reply}`);
  expectEqual(JSON.parse(replies[0] as string), { jsonrpc: '2.0', id: null, result: 2 }, 'id null');
  expectEqual((JSON.parse(replies[3] as string) as { error: { code: number } }).error.code, -32700, 'parse error');
  expectEqual(JSON.parse(replies[6] as string), { jsonrpc: '2.0', id: 'last', result: 4 }, 'after a batch of notifications');
  log('(the batch of notifications got no reply, and the connection stayed usable)');
}

async function connectionLoss(log: Log, host: string, port: number, server: Server): Promise<void> {
  const client = new ClientSession(host, port);
  await within(client.createConnection(), 'connect');
  // A reply proves the server has registered the session.
  expectEqual(await within(client.sendRequest('add', [0]), 'first call'), 0, 'add');
  const pending = client.sendRequest('hang').catch((caught: unknown) => caught);
  for (const session of server.sessions) session.close({ forceAfterMs: 100 }).catch(() => undefined);
  const outcome = await within(pending, 'pending request');
  if (!(outcome instanceof ConnectionError)) throw new Error('a pending request must reject with ConnectionError');
  log(`the server closed the session → pending request rejected with ConnectionError (close code ${outcome.closeCode})`);
}

export const chapter: Chapter = {
  title: 'JSON-RPC 2.0 sessions (@rt/jsonrpc)',
  async run(log) {
    const server = new Server(() => new CalculatorSession());
    try {
      const tcp = await server.listen();
      const ws = await server.listenWs({ path: '/rpc' });
      log(`server listening on ${tcp.url} and ${ws.url}`);
      log('— over newline-framed TCP —');
      await requestsAndBatches(log, tcp.url);
      log('— over WebSocket —');
      await requestsAndBatches(log, ws.url);
      log('— the specification, on the wire —');
      await specEdgeCases(log, tcp.port);
      log('— connection loss —');
      await connectionLoss(log, tcp.host, tcp.port, server);
    } finally {
      await server.close();
    }
  },
};
