import { AbortError, createMemoryPair } from '@rt/transport';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession } from '../src/client-session.js';
import { EXCESSIVE_RESOURCE_USAGE } from '../src/codes.js';
import type { RPCRequest } from '../src/incoming-request.js';
import { ServerSession } from '../src/server-session.js';
import type { SessionOptions } from '../src/session-options.js';
import { exchange, sessionPair, testHandlers } from './helpers.js';

const newClient = (options = {}) => new ClientSession('tcp://127.0.0.1:1', options);

/** A server session whose `extraCost()` the test sets. */
class Weighted extends ServerSession {
  extra: number | Error = 0;

  protected override extraCost(): number {
    if (this.extra instanceof Error) throw this.extra;
    return this.extra;
  }
}

function weightedPeer(options: SessionOptions) {
  const [a, b] = createMemoryPair();
  const session = new Weighted({ handlers: testHandlers, ...options });
  session.attach(a);
  onTestFinished(() => {
    b.abort();
  });
  return { session, raw: b };
}

describe('session API from aiorpcx', () => {
  it('tell client and server sessions apart by kind', () => {
    const { server, client } = sessionPair(new ServerSession(), newClient());
    expect(server.kind).toBe('server');
    expect(client.kind).toBe('client');
  });

  it('keep start, last-send and last-receive times in stats', async () => {
    const before = Date.now();
    const { server, client } = sessionPair(new ServerSession({ handlers: testHandlers }), newClient());
    expect(client.stats.startTime).toBeGreaterThanOrEqual(before);
    expect(client.stats.lastSend).toBe(client.stats.startTime);
    expect(client.stats.lastRecv).toBe(client.stats.startTime);
    expect(await client.sendRequest('echo', [1])).toBe(1);
    expect(client.stats.lastSend).toBeGreaterThanOrEqual(client.stats.startTime);
    expect(client.stats.lastRecv).toBeGreaterThanOrEqual(client.stats.lastSend);
    expect(server.stats.lastRecv).toBeGreaterThanOrEqual(server.stats.startTime);
    expect(server.stats.lastSend).toBeGreaterThanOrEqual(server.stats.lastRecv);
    expect(client.stats).toMatchObject({ sendCount: 1, recvCount: 1 });
  });

  it('cancel every pending request, tell the peer, and keep the connection', async () => {
    const cancelled: unknown[] = [];
    class Watching extends ServerSession {
      protected override handleRequest(request: RPCRequest): unknown {
        if (request.method !== 'hang') return super.handleRequest(request);
        return new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => {
            cancelled.push(request.id);
            reject(request.signal.reason as Error);
          });
        });
      }
    }
    const { client } = sessionPair(new Watching({ handlers: testHandlers }), newClient(), { cancelMethod: '$/cancelRequest' });
    const calls = [client.sendRequest('hang'), client.sendRequest('hang')].map((call) => call.catch((error: unknown) => error));
    client.cancelPendingRequests('no longer needed');
    for (const outcome of await Promise.all(calls)) {
      expect(outcome).toBeInstanceOf(AbortError);
      expect((outcome as Error).message).toBe('no longer needed');
    }
    expect(client.pendingRequestCount).toBe(0);
    await expect.poll(() => cancelled.length).toBe(2);
    expect(await client.sendRequest('add', [1, 2])).toBe(3);
  });

  it('count extraCost() whenever the throttle is recalculated, and on demand with recalcConcurrency()', async () => {
    const { raw, session } = weightedPeer({ cost: { softLimit: 1000, hardLimit: 3000, maxDelayMs: 1 } });
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}')).toMatchObject({ result: 1 });
    session.extra = 5000;
    session.recalcConcurrency();
    const reply = await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":[2],"id":2}');
    expect(reply).toMatchObject({ error: { code: EXCESSIVE_RESOURCE_USAGE }, id: 2 });
    expect((await session.closed).code).toBe(1000);
    expect(session.cost).toBeLessThan(1000);
  });

  it('report an extraCost() that throws to onError and count it as 0', async () => {
    const errors: unknown[] = [];
    const { raw, session } = weightedPeer({
      cost: { softLimit: 1000, hardLimit: 3000, maxDelayMs: 1 },
      onError: (error) => errors.push(error),
    });
    session.extra = new Error('no idea');
    session.recalcConcurrency();
    expect(errors).toEqual([session.extra]);
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":[3],"id":3}')).toMatchObject({ result: 3 });
  });
});
