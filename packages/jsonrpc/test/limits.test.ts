import { deferred } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../src/client-session.js';
import { EXCESSIVE_RESOURCE_USAGE, INVALID_REQUEST, SERVER_BUSY } from '../src/codes.js';
import { Concurrency } from '../src/concurrency.js';
import { CostMeter, resolveCostLimits } from '../src/cost.js';
import { ReplyAndDisconnect, RPCError } from '../src/rpc-error.js';
import { ServerSession } from '../src/server-session.js';
import { exchange, rawPeer, sessionPair } from './helpers.js';

const newClient = () => new ClientSession('tcp://127.0.0.1:1');

describe('limits', () => {
  it('run at most maxConcurrentRequests handlers at once', async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred<void>();
    const server = new ServerSession({
      maxConcurrentRequests: 3,
      handlers: {
        async work(value: number) {
          running += 1;
          peak = Math.max(peak, running);
          await gate.promise;
          running -= 1;
          return value;
        },
      },
    });
    const { client } = sessionPair(server, newClient());
    const replies = Array.from({ length: 10 }, (_, index) => client.sendRequest('work', [index]));
    await expect.poll(() => running).toBe(3);
    expect(server.unansweredRequestCount).toBe(10);
    gate.resolve();
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 10 }, (_, index) => index));
    expect(peak).toBe(3);
  });

  it('answer -102 when processing takes longer than processingTimeoutMs, and abort the handler', async () => {
    let signal: AbortSignal | undefined;
    class Slow extends ServerSession {
      protected override handleRequest(request: { signal: AbortSignal }): unknown {
        signal = request.signal;
        return new Promise(() => undefined);
      }
    }
    const { client } = sessionPair(new Slow({ processingTimeoutMs: 30 }), newClient());
    const error = await client.sendRequest('slow').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RPCError);
    expect((error as RPCError).code).toBe(SERVER_BUSY);
    expect(signal?.aborted).toBe(true);
  });

  it('answer an over-long batch with one -32600 error', async () => {
    const { raw } = rawPeer({ maxBatchLength: 2 });
    const call = { jsonrpc: '2.0', method: 'echo', params: [1], id: 1 };
    const reply = await exchange(raw, JSON.stringify([call, call, call]));
    expect(reply).toMatchObject({ jsonrpc: '2.0', error: { code: INVALID_REQUEST }, id: null });
    expect(await exchange(raw, JSON.stringify([call, call]))).toHaveLength(2);
  });

  it('refuse with -101 and disconnect once the cost reaches the hard limit', async () => {
    const { raw, session } = rawPeer({ cost: { softLimit: 100, hardLimit: 500, maxDelayMs: 1 } });
    // A parse error costs 1000: the first one is over the hard limit.
    await exchange(raw, 'not json');
    const reply = await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}');
    expect(reply).toMatchObject({ error: { code: EXCESSIVE_RESOURCE_USAGE }, id: 1 });
    const info = await session.closed;
    expect(info.code).toBe(1000);
    expect(await raw.receive()).toBeUndefined();
  });

  it('replace a result over maxResponseSize with a -32600 error', async () => {
    const { raw } = rawPeer({ maxResponseSize: 100 });
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":["small"],"id":1}')).toMatchObject({ result: 'small' });
    const big = JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: ['é'.repeat(60)], id: 2 });
    expect(await exchange(raw, big)).toMatchObject({ error: { code: INVALID_REQUEST }, id: 2 });
  });

  it('reply, then disconnect, when a handler throws ReplyAndDisconnect', async () => {
    const { raw, session } = rawPeer({
      handlers: {
        bye: () => {
          throw new ReplyAndDisconnect('goodbye');
        },
      },
    });
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"bye","id":1}')).toEqual({ jsonrpc: '2.0', id: 1, result: 'goodbye' });
    expect(await raw.receive()).toBeUndefined();
    await session.closed;
    const second = rawPeer({
      handlers: {
        refuse: async () => {
          throw new ReplyAndDisconnect(new RPCError(-1, 'go away'));
        },
      },
    });
    expect(await exchange(second.raw, '{"jsonrpc":"2.0","method":"refuse","id":2}')).toMatchObject({
      error: { code: -1, message: 'go away' },
      id: 2,
    });
    expect(await second.raw.receive()).toBeUndefined();
  });

  it('delay requests between the soft and the hard limit, and forgive cost over time', () => {
    const fractions: number[] = [];
    const meter = new CostMeter(resolveCostLimits({ softLimit: 1000, hardLimit: 3000, decayPerSecond: 0 }, true), (f) =>
      fractions.push(f),
    );
    meter.bump(2000);
    expect(meter.fraction).toBeCloseTo(0.5);
    expect(meter.delayMs).toBeCloseTo(1000);
    expect(meter.exceeded).toBe(false);
    meter.bump(1000);
    expect(meter.exceeded).toBe(true);
    meter.bump(-3000);
    expect(meter.fraction).toBe(0);
    expect(fractions.length).toBeGreaterThanOrEqual(3);
    const clientMeter = new CostMeter(resolveCostLimits({}, false), () => undefined);
    clientMeter.bump(1_000_000);
    expect(clientMeter.exceeded).toBe(false);
  });

  it('shrink and grow a concurrency limit while in use', async () => {
    const slots = new Concurrency(2);
    expect(slots.tryAcquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(true);
    let admitted = false;
    const waiting = slots.acquire().then(() => {
      admitted = true;
    });
    slots.setTarget(1);
    slots.release();
    await Promise.resolve();
    expect(admitted).toBe(false);
    slots.setTarget(3);
    await waiting;
    expect(slots.active).toBe(2);
  });
});
