import { fileURLToPath } from 'node:url';
import { allOf, hasPython3Module, peerAvailable, startPythonPeer, type PeerProcess } from '@rt/test-harness';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession, connect } from '../src/client-session.js';
import { JSONRPCAutoDetect } from '../src/protocol-auto.js';
import { JSONRPCLoose } from '../src/protocol-loose.js';
import { JSONRPCv1 } from '../src/protocol-v1.js';
import { RPCError } from '../src/rpc-error.js';
import { ServerSession } from '../src/server-session.js';
import { startServer, track } from './helpers.js';

const peers = fileURLToPath(new URL('./peers/', import.meta.url));
const available = await peerAvailable('python3-aiorpcx (+ python3-websockets)', allOf(hasPython3Module('aiorpcx'), hasPython3Module('websockets')));

async function startPeer(script: string, args: string[], readyPattern?: RegExp): Promise<PeerProcess> {
  const peer = await startPythonPeer({
    script: peers + script,
    args,
    ...(readyPattern ? { readyPattern } : {}),
    timeoutMs: 15_000,
  });
  onTestFinished(async () => {
    await peer.stop();
  });
  return peer;
}

/** Our server for the aiorpcx client: the methods its script calls. */
function serverFor(notes: unknown[]) {
  return () =>
    new ServerSession({
      handlers: {
        add: (a: number, b: number) => a + b,
        greet: ({ name }: { name: string }) => `hello ${name}`,
        fail_with_data: () => {
          throw new RPCError(-32000, 'it failed', { detail: 'data aiorpcx ignores' });
        },
        note: (value: unknown) => void notes.push(value),
        notes: () => notes,
        async call_back(this: ServerSession, value: number) {
          return this.sendRequest('double', [value]);
        },
      },
    });
}

async function runAiorpcxClient(args: string[]): Promise<Map<string, unknown>> {
  const peer = await startPeer('aiorpcx_client.py', args, /^DONE$/);
  void peer;
  const steps = new Map<string, unknown>();
  for (const line of peer.lines) {
    const space = line.indexOf(' ');
    if (space > 0) steps.set(line.slice(0, space), JSON.parse(line.slice(space + 1)) as unknown);
  }
  return steps;
}

function expectClientSteps(steps: Map<string, unknown>, notes: unknown[]): void {
  expect(steps.get('add')).toBe(5);
  expect(steps.get('greet')).toBe('hello py');
  expect(steps.get('error')).toEqual([-32000, 'it failed']);
  expect(steps.get('notes')).toEqual(['n1', 'n2']);
  expect(steps.get('batch')).toEqual([2, 30]);
  expect(steps.get('call_back')).toBe(42);
  expect(notes).toEqual(['n1', 'n2', 'n3']);
}

async function exerciseAiorpcxServer(client: ClientSession): Promise<void> {
  expect(await client.sendRequest('add', [2, 3])).toBe(5);
  expect(await client.sendRequest('greet', { name: 'ts' })).toBe('hello ts');
  const error = await client.sendRequest('fail', [-32001, 'nope']).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(RPCError);
  expect(error).toMatchObject({ code: -32001, message: 'nope' });
  const unknown = await client.sendRequest('missing').catch((caught: unknown) => caught);
  expect(unknown).toMatchObject({ code: -32601 });
  client.sendNotification('note', ['a']);
  client.sendNotification('note', ['b']);
  expect(await client.sendRequest('notes')).toEqual(['a', 'b']);
  const results = await client.sendBatch((batch) => {
    batch.addRequest('add', [1, 2]);
    batch.addNotification('note', ['c']);
    batch.addRequest('echo', [{ nested: [1, 'ü'] }]);
    batch.addRequest('fail', [-5, 'in batch']);
  });
  expect(results.slice(0, 2)).toEqual([3, { nested: [1, 'ü'] }]);
  expect(results[2]).toMatchObject({ code: -5, message: 'in batch' });
  expect(await client.sendRequest('call_back', [8])).toBe(16);
  expect(await client.sendRequest('notify_back', ['p'])).toBe('sent');
}

describe.skipIf(!available)('interop with aiorpcx', () => {
  it('JSON-RPC 1.0 both ways over newline TCP (our AutoDetect server, our v1 client)', async () => {
    const notes: unknown[] = [];
    const { address } = await startServer(serverFor(notes), { protocol: JSONRPCAutoDetect });
    const steps = await runAiorpcxClient(['tcp-v1', String(address.port)]);
    expect(steps.get('add')).toBe(5);
    expect(steps.get('error')).toEqual([-32000, 'it failed']);
    expect(steps.get('notes')).toEqual(['n1', 'n2']);
    expect(steps.get('call_back')).toBe(42);
    const peer = await startPeer('aiorpcx_server.py', ['tcp-v1'], /READY (\d+)/);
    const client = track(
      new ClientSession('127.0.0.1', peer.port as number, { protocol: JSONRPCv1, handlers: { double: (value: number) => value * 2 } }),
    );
    await client.createConnection();
    expect(await client.sendRequest('add', [4, 5])).toBe(9);
    await expect(client.sendRequest('fail', [-3, 'v1 error'])).rejects.toMatchObject({ code: -3, message: 'v1 error' });
    client.sendNotification('note', ['v1']);
    expect(await client.sendRequest('notes', [])).toEqual(['v1']);
    expect(await client.sendRequest('call_back', [6])).toBe(12);
  });

  it('a batch an aiorpcx JSON-RPC 1.0 server refuses with one id-null error rejects at once', async () => {
    const peer = await startPeer('aiorpcx_server.py', ['tcp-v1'], /READY (\d+)/);
    // A short timeout: were the refusal not attributed, the batch would reject with TimeoutError.
    const client = track(new ClientSession('127.0.0.1', peer.port as number, { protocol: JSONRPCLoose, requestTimeoutMs: 3000 }));
    await client.createConnection();
    for (const raiseErrors of [false, true]) {
      const refused = await client
        .sendBatch((batch) => batch.addRequest('add', [1, 2]).addRequest('echo', ['x']), { raiseErrors })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RPCError);
      expect(refused).toMatchObject({ code: -32600 });
    }
    expect(client.pendingRequestCount).toBe(0);
    expect(await client.sendRequest('add', [1, 2])).toBe(3);
  });

  it('our ClientSession talks to an aiorpcx server over newline TCP', async () => {
    const peer = await startPeer('aiorpcx_server.py', ['tcp'], /READY (\d+)/);
    const pushed: unknown[] = [];
    const client = new ClientSession('127.0.0.1', peer.port as number, {
      handlers: { double: (value: number) => value * 2, pushed: (value: unknown) => void pushed.push(value) },
    });
    await client.createConnection();
    track(client);
    await exerciseAiorpcxServer(client);
    await expect.poll(() => pushed).toEqual(['p']);
  });

  it('our ClientSession talks to an aiorpcx server over WebSocket', async () => {
    const peer = await startPeer('aiorpcx_server.py', ['ws'], /READY (\d+)/);
    const pushed: unknown[] = [];
    const client = await connect(`ws://127.0.0.1:${peer.port as number}`, {
      handlers: { double: (value: number) => value * 2, pushed: (value: unknown) => void pushed.push(value) },
    });
    track(client);
    await exerciseAiorpcxServer(client);
    await expect.poll(() => pushed).toEqual(['p']);
  });

  it('an aiorpcx client talks to our Server over newline TCP', async () => {
    const notes: unknown[] = [];
    const { address } = await startServer(serverFor(notes));
    expectClientSteps(await runAiorpcxClient(['tcp', String(address.port)]), notes);
  });

  it('an aiorpcx client talks to our Server over WebSocket', async () => {
    const notes: unknown[] = [];
    const { address } = await startServer(serverFor(notes), { websocket: true });
    expectClientSteps(await runAiorpcxClient(['ws', address.url]), notes);
  });
});
