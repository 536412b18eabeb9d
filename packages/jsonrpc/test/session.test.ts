import { AbortError, ConnectionError, createMemoryPair, TimeoutError } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../src/client-session.js';
import { INVALID_PARAMS } from '../src/codes.js';
import type { RPCRequest } from '../src/incoming-request.js';
import type { UntypedMethods } from '../src/method-map.js';
import { JSONRPCAutoDetect } from '../src/protocol-auto.js';
import { JSONRPCv1 } from '../src/protocol-v1.js';
import { BatchError, RPCError } from '../src/rpc-error.js';
import { ServerSession } from '../src/server-session.js';
import { sessionPair, testHandlers } from './helpers.js';

const newClient = (options = {}) => new ClientSession('tcp://127.0.0.1:1', options);

describe('sessions', () => {
  it('spread positional params and pass named params as one object', async () => {
    const { client } = sessionPair(new ServerSession({ handlers: testHandlers }), newClient());
    expect(await client.sendRequest('add', [2, 3])).toBe(5);
    expect(await client.sendRequest('greet', { name: 'eve' })).toBe('hello eve');
    expect(await client.sendRequest('echo', [{ deep: [1, { x: null }] }])).toEqual({ deep: [1, { x: null }] });
    expect(await client.sendRequest('nothing')).toBeNull();
  });

  it('answer through an overridden handleRequest', async () => {
    const seen: RPCRequest[] = [];
    class Custom extends ServerSession {
      protected override handleRequest(request: RPCRequest): unknown {
        seen.push(request);
        if (request.method === 'bad') throw new RPCError(-1, 'bad thing', { detail: [1, 2] });
        return { method: request.method, params: request.params ?? null };
      }
    }
    const { client } = sessionPair(new Custom(), newClient());
    expect(await client.sendRequest('anything', { a: 1 })).toEqual({ method: 'anything', params: { a: 1 } });
    const error = await client.sendRequest('bad').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RPCError);
    expect(error).toMatchObject({ code: -1, message: 'bad thing', data: { detail: [1, 2] } });
    client.sendNotification('note', [1]);
    await expect.poll(() => seen.some((request) => request.method === 'note' && request.id === undefined)).toBe(true);
  });

  it('let both sides send requests on one connection', async () => {
    const server = new ServerSession({
      handlers: {
        async askBack(this: ServerSession, value: number) {
          const doubled = (await this.sendRequest('double', [value])) as number;
          return doubled + 1;
        },
      },
    });
    const client = newClient({ handlers: { double: (value: number) => value * 2 } });
    sessionPair(server, client);
    expect(await client.sendRequest('askBack', [20])).toBe(41);
    expect(await server.sendRequest('double', [4])).toBe(8);
  });

  it('send batches and resolve results in request order', async () => {
    const notes: unknown[] = [];
    const server = new ServerSession({ handlers: { ...testHandlers, note: (value: unknown) => void notes.push(value) } });
    const { client } = sessionPair(server, newClient());
    const results = await client.sendBatch((batch) => {
      batch.addRequest('add', [1, 2]);
      batch.addNotification('note', ['n1']);
      batch.addRequest('missing');
      batch.addRequest('greet', { name: 'z' });
    });
    expect(results).toHaveLength(3);
    expect(results[0]).toBe(3);
    expect(results[1]).toBeInstanceOf(RPCError);
    expect((results[1] as RPCError).code).toBe(-32601);
    expect(results[2]).toBe('hello z');
    expect(notes).toEqual(['n1']);
    await expect(client.sendBatch((batch) => batch.addRequest('missing'), { raiseErrors: true })).rejects.toBeInstanceOf(
      BatchError,
    );
    expect(await client.sendBatch((batch) => batch.addNotification('note', ['n2']))).toEqual([]);
    await expect(client.sendBatch(() => undefined)).rejects.toBeInstanceOf(RPCError);
  });

  it('time out a request and forget it', async () => {
    const server = new ServerSession({ handlers: { hang: () => new Promise(() => undefined) } });
    const { client } = sessionPair(server, newClient());
    const error = await client.sendRequest('hang', [], { timeoutMs: 30 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(client.pendingRequestCount).toBe(0);
  });

  it('abort a request with a signal and tell the peer with $/cancelRequest', async () => {
    const signals: AbortSignal[] = [];
    class Cancellable extends ServerSession {
      protected override handleRequest(request: RPCRequest): unknown {
        signals.push(request.signal);
        return new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason as Error));
        });
      }
    }
    const { client } = sessionPair(new Cancellable(), newClient(), { cancelMethod: '$/cancelRequest' });
    const controller = new AbortController();
    const reply = client.sendRequest('wait', [], { signal: controller.signal });
    await expect.poll(() => signals.length).toBe(1);
    controller.abort();
    await expect(reply).rejects.toBeInstanceOf(AbortError);
    await expect.poll(() => signals[0]?.aborted).toBe(true);
  });

  it('reject pending requests with ConnectionError when the connection is lost', async () => {
    const server = new ServerSession({ handlers: { hang: () => new Promise(() => undefined) } });
    const { client } = sessionPair(server, newClient());
    const pending = [client.sendRequest('hang'), client.sendRequest('hang'), client.sendBatch((b) => b.addRequest('hang'))];
    await expect.poll(() => server.unansweredRequestCount).toBe(3);
    server.abort();
    for (const reply of pending) await expect(reply).rejects.toBeInstanceOf(ConnectionError);
    const info = await client.closed;
    expect(info.wasClean).toBe(false);
    expect(client.isClosing()).toBe(true);
    await expect(client.sendRequest('echo', [1])).rejects.toBeInstanceOf(ConnectionError);
    expect(() => client.sendNotification('echo', [1])).toThrow(ConnectionError);
  });

  it('close gracefully, and reject what is pending', async () => {
    const server = new ServerSession({ handlers: { hang: () => new Promise(() => undefined) } });
    const { client } = sessionPair(server, newClient());
    const pending = client.sendRequest('hang');
    await expect.poll(() => server.unansweredRequestCount).toBe(1);
    expect(client.state).toBe('open');
    const closing = client.close();
    expect(client.state).toBe('closing');
    expect(client.isClosing()).toBe(true);
    const info = await closing;
    expect(client.state).toBe('closed');
    expect(info.wasClean).toBe(true);
    await expect(pending).rejects.toBeInstanceOf(ConnectionError);
    expect((await server.closed).code).toBe(1000);
  });

  it('refuse to attach twice, and close sessions that never connected', async () => {
    const { server } = sessionPair(new ServerSession({ handlers: testHandlers }), newClient());
    expect(() => server.attach(createMemoryPair()[0])).toThrow(/open/);
    const idle = newClient();
    expect(idle.state).toBe('idle');
    await expect(idle.sendRequest('echo', [1])).rejects.toBeInstanceOf(ConnectionError);
    expect((await idle.close()).wasClean).toBe(true);
    expect(idle.state).toBe('closed');
  });

  it('close through Symbol.asyncDispose', async () => {
    const { server, client } = sessionPair(new ServerSession({ handlers: testHandlers }), newClient());
    {
      await using session = client;
      expect(await session.sendRequest('add', [1, 1])).toBe(2);
    }
    expect(client.isClosing()).toBe(true);
    await server.closed;
  });

  it('survive errors thrown by onError and connectionLost', async () => {
    const reported: unknown[] = [];
    class Fragile extends ServerSession {
      protected override connectionLost(): void {
        throw new Error('hook failed');
      }
    }
    const server = new Fragile({
      handlers: testHandlers,
      onError: (error, request) => {
        reported.push(request ? request.method : error);
        throw new Error('onError failed too');
      },
    });
    const { client } = sessionPair(server, newClient());
    await expect(client.sendRequest('fail')).rejects.toMatchObject({ code: -32603, message: 'Internal error' });
    expect(await client.sendRequest('add', [1, 2])).toBe(3);
    await client.close();
    await server.closed;
    expect(reported).toHaveLength(2);
    expect(reported[0]).toBe('fail');
    expect((reported[1] as Error).message).toBe('hook failed');
  });

  it('speak JSON-RPC 1.0, and auto-detect it', async () => {
    const server = new ServerSession({ handlers: testHandlers, protocol: JSONRPCAutoDetect });
    const { client } = sessionPair(server, newClient({ protocol: JSONRPCv1 }));
    expect(await client.sendRequest('add', [5, 6])).toBe(11);
    expect(server.protocol).toBe(JSONRPCv1);
    await expect(client.sendRequest('add', { a: 1 })).rejects.toMatchObject({ code: INVALID_PARAMS });
    await expect(client.sendBatch((batch) => batch.addRequest('add', [1, 2]))).rejects.toBeInstanceOf(RPCError);
  });

  it('type method maps', async () => {
    interface ServerMethods {
      add(a: number, b: number): number;
      greet(named: { name: string }): string;
    }
    const server = new ServerSession<UntypedMethods, ServerMethods>({
      handlers: { add: (a, b) => a + b, greet: ({ name }) => `hi ${name}` },
    });
    const client = new ClientSession<ServerMethods>('tcp://127.0.0.1:1');
    sessionPair(server, client);
    const sum: number = await client.sendRequest('add', [1, 2]);
    const greeting: string = await client.sendRequest('greet', { name: 'x' });
    expect([sum, greeting]).toEqual([3, 'hi x']);
    // @ts-expect-error -- `add` takes two numbers
    await expect(client.sendRequest('add', ['1', '2'])).resolves.toBe('12');
    // @ts-expect-error -- `subtract` is not in the map
    await expect(client.sendRequest('subtract', [1, 2])).rejects.toMatchObject({ code: -32601 });
  });
});
