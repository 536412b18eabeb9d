import { connect as connectNet } from 'node:net';
import { ConnectionError, TimeoutError } from '@rt/transport';
import { FaultProxy } from '@rt/test-harness';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession, connect } from '../src/client-session.js';
import type { RPCRequest } from '../src/incoming-request.js';
import { RPCError } from '../src/rpc-error.js';
import { ServerSession } from '../src/server-session.js';
import { startServer, testHandlers, track } from './helpers.js';

/** Server sessions whose `hang` never answers and whose `call_back` asks the client back. */
class HangingSession extends ServerSession {
  readonly started: RPCRequest[] = [];

  protected override handleRequest(request: RPCRequest): unknown {
    if (request.method === 'hang') {
      this.started.push(request);
      return new Promise(() => undefined);
    }
    return super.handleRequest(request);
  }
}

async function proxiedServer(websocket = false) {
  const sessions: HangingSession[] = [];
  const { server, address } = await startServer(
    () => {
      const session = new HangingSession({ handlers: testHandlers });
      sessions.push(session);
      return session;
    },
    { websocket },
  );
  const proxy = await FaultProxy.start({ target: { host: address.host, port: address.port } });
  onTestFinished(() => proxy.close());
  return { server, address, proxy, sessions };
}

describe('faults', () => {
  for (const websocket of [false, true]) {
    const kind = websocket ? 'WebSocket' : 'TCP';

    it(`rejects every pending request with ConnectionError when the link is cut mid-request (${kind})`, async () => {
      const { proxy, sessions } = await proxiedServer(websocket);
      const client = track(await connect(proxy.url(websocket ? 'ws' : 'tcp')));
      const pending = [
        client.sendRequest('hang'),
        client.sendRequest('hang', [], { timeoutMs: 60_000 }),
        client.sendBatch((batch) => batch.addRequest('hang').addRequest('hang')),
      ].map((reply) => reply.catch((error: unknown) => error));
      await expect.poll(() => sessions[0]?.started.length).toBe(4);
      proxy.cutAll();
      for (const outcome of await Promise.all(pending)) expect(outcome).toBeInstanceOf(ConnectionError);
      expect(client.pendingRequestCount).toBe(0);
      await sessions[0]?.closed;
      for (const request of sessions[0]?.started ?? []) expect(request.signal.aborted).toBe(true);
    });

    it(`rejects the server's pending requests to the client when the link is cut (${kind})`, async () => {
      const { proxy, sessions } = await proxiedServer(websocket);
      let asked = 0;
      const client = track(
        await connect(proxy.url(websocket ? 'ws' : 'tcp'), {
          handlers: {
            slow: () => {
              asked += 1;
              return new Promise(() => undefined);
            },
          },
        }),
      );
      expect(await client.sendRequest('echo', ['ready'])).toBe('ready');
      const session = sessions[0] as HangingSession;
      const fromServer = session.sendRequest('slow').catch((error: unknown) => error);
      await expect.poll(() => asked).toBe(1);
      proxy.cutAll();
      expect(await fromServer).toBeInstanceOf(ConnectionError);
      await client.closed;
    });
  }

  it('rejects with ConnectionError when the link dies halfway through a reply', async () => {
    const { proxy } = await proxiedServer();
    const client = track(await connect(proxy.url('tcp')));
    expect(await client.sendRequest('echo', ['warm-up'])).toBe('warm-up');
    proxy.closeAfterBytes(200);
    const reply = client.sendRequest('echo', ['x'.repeat(1000)]);
    await expect(reply).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects with ConnectionError when the link stalls and is then cut', async () => {
    const { proxy } = await proxiedServer();
    const client = track(await connect(proxy.url('tcp')));
    proxy.stall();
    const reply = client.sendRequest('echo', [1]).catch((error: unknown) => error);
    await expect.poll(() => proxy.pendingBytes).toBeGreaterThan(0);
    proxy.cutAll();
    expect(await reply).toBeInstanceOf(ConnectionError);
  });

  it("rejects a request whose bytes were corrupted with the server's id-null -32700, and the connection stays usable", async () => {
    const { proxy } = await proxiedServer();
    const client = track(await connect(proxy.url('tcp')));
    expect(await client.sendRequest('echo', [0])).toBe(0);
    proxy.corruptNext(5, 'upstream');
    // The server cannot read it and answers -32700 with id null; it was the only request waiting.
    const lost = await client.sendRequest('echo', [1], { timeoutMs: 5000 }).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(RPCError);
    expect(lost).toMatchObject({ code: -32700 });
    expect(await client.sendRequest('echo', [2])).toBe(2);
  });

  it('times out corrupted requests when an id-null error cannot tell which one it answers', async () => {
    const { proxy } = await proxiedServer();
    const client = track(await connect(proxy.url('tcp')));
    expect(await client.sendRequest('echo', [0])).toBe(0);
    proxy.corruptNext(5, 'upstream');
    const first = client.sendRequest('echo', [1], { timeoutMs: 300 }).catch((error: unknown) => error);
    const second = client.sendRequest('echo', [2], { timeoutMs: 300 }).catch((error: unknown) => error);
    const outcomes = await Promise.all([first, second]);
    expect(outcomes[0]).toBeInstanceOf(TimeoutError);
    expect(outcomes[1]).toBe(2);
    expect(await client.sendRequest('echo', [3])).toBe(3);
  });

  it('fails to connect with ConnectionError when the server refuses', async () => {
    const { proxy } = await proxiedServer();
    proxy.refuseNew();
    const client = new ClientSession(proxy.host, proxy.port);
    const outcome = await client
      .createConnection()
      .then(() => client.sendRequest('echo', [1]))
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(ConnectionError);
  });
});

describe('bad input', () => {
  it('keeps serving other sessions while one floods garbage, huge frames and batches', async () => {
    const { server, address } = await startServer(() => new ServerSession({ handlers: testHandlers }), {
      maxMessageSize: 64 * 1024,
      maxBatchLength: 50,
    });
    const good = track(await connect(address.url));
    const flooder = connectNet(address.port, address.host);
    onTestFinished(() => {
      flooder.destroy();
    });
    flooder.on('error', () => undefined);
    let received = 0;
    flooder.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    // The flooder is disconnected, by the cost limit or by the oversize frame, whichever comes first.
    const flooderClosed = new Promise((resolve) => flooder.once('close', resolve));
    await new Promise((resolve) => flooder.once('connect', resolve));
    const call = JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: [1], id: 1 });
    const garbage = [
      '{"jsonrpc":"2.0","method"',
      '[' + Array.from({ length: 200 }, () => call).join(',') + ']',
      '['.repeat(10_000) + ']'.repeat(10_000),
      '[]',
      '{"id":{}}',
      JSON.stringify(Array.from({ length: 40 }, (_, index) => ({ jsonrpc: '2.0', method: 'echo', params: [index] }))),
    ];
    for (let round = 0; round < 20; round += 1) flooder.write(garbage.join('\n') + '\n');
    const replies = await Promise.all(Array.from({ length: 50 }, (_, index) => good.sendRequest('add', [index, 1])));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
    await expect.poll(() => received).toBeGreaterThan(0);
    if (!flooder.destroyed) flooder.write('x'.repeat(100 * 1024) + '\n');
    await flooderClosed;
    expect(await good.sendRequest('echo', ['still serving'])).toBe('still serving');
    await expect.poll(() => server.sessions.size).toBe(1);
  });
});
