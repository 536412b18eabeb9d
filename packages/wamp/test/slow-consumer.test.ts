import { once } from 'node:events';
import { listenWebSocket, type Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Client, RtErrorUri, serializerForSubprotocol, serializers, type Serializer } from '../src/index.js';
import { Router, type RouterOptions } from '../src/router/index.js';
import { join, signal } from './helpers.js';

const TOPIC = 'com.example.flood';
const EVENT_BYTES = 64 * 1024;
const BLOB = 'x'.repeat(EVENT_BYTES);
/** Far more than loopback socket buffers hold: a router without a limit would buffer most of it. */
const MAX_MESSAGES = 1000;
/** Room for one message's WAMP envelope and WebSocket header above its payload. */
const ENVELOPE = 1024;

/** One connection the router accepted, with what its write buffer went through. */
interface Watched {
  transport: Transport;
  /** Largest `bufferedAmount` seen right after a write. */
  peak: number;
  /** Set once a write returned `false` (above the transport's write high water mark). */
  overHighWaterMark: boolean;
}

/** A router served through our own listener, so each accepted transport's write buffer can be watched. */
async function startWatchedRouter(options: Partial<RouterOptions>): Promise<{ url: string; connections: Watched[] }> {
  const router = new Router({ realms: ['realm1'], ...options });
  const listener = await listenWebSocket({
    host: '127.0.0.1', port: 0, path: '/ws', requireProtocol: true,
    protocols: Object.values(serializers).map((s) => s.subprotocol),
  });
  useTeardown(async () => {
    await router.close();
    await listener.close();
  });
  const connections: Watched[] = [];
  listener.onConnection((transport) => {
    const watched: Watched = { transport, peak: 0, overHighWaterMark: false };
    connections.push(watched);
    const write = transport.write.bind(transport);
    transport.write = (message) => {
      const below = write(message);
      watched.peak = Math.max(watched.peak, transport.bufferedAmount);
      if (!below) watched.overHighWaterMark = true;
      return below;
    };
    void router.attach(transport, serializerForSubprotocol(transport.protocol) as Serializer);
  });
  return { url: listener.url, connections };
}

/** A bare `ws` WAMP peer (JSON) that can stop reading with `ws.pause()`. */
interface RawPeer {
  ws: WebSocket;
  sessionId: number;
  send(message: unknown[]): void;
  next(): Promise<unknown[]>;
  /** Messages received and not taken by `next()`. */
  inbox: unknown[][];
  /** The close code, once the connection closed. */
  closed: Promise<number>;
}

async function rawJoin(url: string, roles: Record<string, object>): Promise<RawPeer> {
  const ws = new WebSocket(url, ['wamp.2.json']);
  useTeardown(() => ws.terminate());
  const inbox: unknown[][] = [];
  const waiters: ((message: unknown[]) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as unknown[];
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  const next = (): Promise<unknown[]> => {
    const message = inbox.shift();
    return message ? Promise.resolve(message) : new Promise((resolve) => waiters.push(resolve));
  };
  await once(ws, 'open');
  const send = (message: unknown[]): void => ws.send(JSON.stringify(message));
  send([1, 'realm1', { roles }]);
  const welcome = await next();
  expect(welcome[0]).toBe(2);
  return { ws, sessionId: welcome[1] as number, send, next, inbox, closed };
}

/** Resolves when `session` leaves, as the router announces it on `wamp.session.on_leave`. */
async function watchLeave(client: Client, session: number): Promise<{ left: () => boolean; promise: Promise<void> }> {
  const gone = signal();
  let left = false;
  await client.subscribe('wamp.session.on_leave', ({ args }) => {
    if (args[0] !== session) return;
    left = true;
    gone.resolve();
  });
  return { left: () => left, promise: gone.promise };
}

/** Publish numbered events in acknowledged batches of four until `stop()`; resolves how many were published. */
async function flood(publisher: Client, stop: () => boolean): Promise<number> {
  let seq = 0;
  while (!stop() && seq < MAX_MESSAGES) {
    for (let i = 0; i < 3; i++) void publisher.publish(TOPIC, [seq++, BLOB]);
    await publisher.publish(TOPIC, [seq++, BLOB], { acknowledge: true });
  }
  return seq;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A subscriber that records event numbers; `all(n)` resolves once it has `n`. */
async function recorder(client: Client): Promise<{ received: number[]; all(n: number): Promise<void> }> {
  const received: number[] = [];
  let want = Infinity;
  const done = signal();
  await client.subscribe(TOPIC, ({ args }) => {
    received.push(args[0] as number);
    if (received.length >= want) done.resolve();
  });
  return {
    received,
    all(n) {
      want = n;
      if (received.length >= n) done.resolve();
      return done.promise;
    },
  };
}

/** Event numbers in the EVENT messages of `messages`. */
const eventNumbers = (messages: unknown[][]): number[] =>
  messages.filter((m) => m[0] === 36).map((m) => (m[4] as unknown[])[0] as number);

describe('slow consumers', () => {
  it('ends a subscriber that stops reading once its buffer passes the limit; a fast subscriber gets every event in order', async () => {
    const limit = 1024 * 1024;
    const { url, connections } = await startWatchedRouter({ maxOutgoingBuffer: limit });
    const fast = await join(url);
    const fastEvents = await recorder(fast);
    const slow = await rawJoin(url, { subscriber: {} });
    slow.send([32, 1, {}, TOPIC]);
    expect((await slow.next())[0]).toBe(33);
    const slowLeave = await watchLeave(fast, slow.sessionId);
    slow.ws.pause();
    const publisher = await join(url);

    const published = await flood(publisher, slowLeave.left);
    expect(slowLeave.left()).toBe(true);
    slow.ws.resume();

    // The router held at most the limit plus one message for the slow session, and no more for anyone.
    const slowConnection = connections[1] as Watched;
    expect(slowConnection.peak).toBeGreaterThan(limit);
    for (const connection of connections) expect(connection.peak).toBeLessThanOrEqual(limit + EVENT_BYTES + ENVELOPE);

    // The slow peer gets what was queued (a gapless prefix), then ABORT with the reason, then close 1008.
    expect(await slow.closed).toBe(1008);
    const last = slow.inbox.at(-1) as unknown[];
    expect(last[0]).toBe(3);
    expect(last[2]).toBe(RtErrorUri.SLOW_CONSUMER);
    expect((last[1] as { message: string }).message).toMatch(/bytes were waiting/);
    const slowGot = eventNumbers(slow.inbox);
    expect(slowGot.length).toBeLessThan(published);
    expect(slowGot).toEqual(range(slowGot.length));

    await fastEvents.all(published);
    expect(fastEvents.received).toEqual(range(published));
  });

  it('ends a callee that stops reading; its pending calls fail as for any callee that left and other callees keep serving', async () => {
    const limit = 1024 * 1024;
    const { url, connections } = await startWatchedRouter({ maxOutgoingBuffer: limit });
    const caller = await join(url);
    const stuck = await rawJoin(url, { callee: {} });
    stuck.send([64, 1, {}, 'com.example.stuck']);
    expect((await stuck.next())[0]).toBe(65);
    const stuckLeave = await watchLeave(caller, stuck.sessionId);
    stuck.ws.pause();
    const healthy = await join(url);
    await healthy.register('com.example.echo', ({ args }) => args[0]);

    const outcomes: Promise<string>[] = [];
    while (!stuckLeave.left() && outcomes.length < MAX_MESSAGES) {
      for (let i = 0; i < 4; i++) {
        outcomes.push(caller.call('com.example.stuck', [BLOB]).then(() => 'result', (error: unknown) => String((error as { uri?: string }).uri)));
      }
      // The router handles a session's messages in order: this answer means the calls above were routed.
      await caller.call('wamp.session.count');
    }
    expect(stuckLeave.left()).toBe(true);

    const settled = await Promise.all(outcomes);
    expect(settled).toContain('wamp.error.canceled');
    for (const outcome of settled) expect(['wamp.error.canceled', 'wamp.error.no_such_procedure']).toContain(outcome);
    await expect(caller.call('com.example.stuck')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    expect((await caller.call('com.example.echo', ['still served'])).args).toEqual(['still served']);

    const stuckConnection = connections[1] as Watched;
    expect(stuckConnection.peak).toBeGreaterThan(limit);
    expect(stuckConnection.peak).toBeLessThanOrEqual(limit + EVENT_BYTES + ENVELOPE);
  });

  it('ends a subscriber whose buffer stays above the write high water mark longer than slowConsumerTimeoutMs', { timeout: 10_000 }, async () => {
    const { url, connections } = await startWatchedRouter({ maxOutgoingBuffer: 256 * 1024 * 1024, slowConsumerTimeoutMs: 300 });
    const fast = await join(url);
    const fastEvents = await recorder(fast);
    const slow = await rawJoin(url, { subscriber: {} });
    slow.send([32, 1, {}, TOPIC]);
    expect((await slow.next())[0]).toBe(33);
    const slowLeave = await watchLeave(fast, slow.sessionId);
    slow.ws.pause();
    const publisher = await join(url);
    const slowConnection = connections[1] as Watched;

    // Stop publishing as soon as the slow session's buffer is above the high water mark: no more
    // writes come, so only the drain timeout can end it.
    const published = await flood(publisher, () => slowConnection.overHighWaterMark);
    expect(slowConnection.overHighWaterMark).toBe(true);
    await slowLeave.promise;
    slow.ws.resume();

    expect(await slow.closed).toBe(1008);
    const last = slow.inbox.at(-1) as unknown[];
    expect(last[2]).toBe(RtErrorUri.SLOW_CONSUMER);
    expect((last[1] as { message: string }).message).toMatch(/did not drain within 300 ms/);
    await fastEvents.all(published);
    expect(fastEvents.received).toEqual(range(published));
  });

  it('delivers a single message larger than the limit to a subscriber that reads', async () => {
    const { url } = await startWatchedRouter({ maxOutgoingBuffer: 64 * 1024 });
    const subscriber = await join(url);
    const got: string[] = [];
    const first = signal();
    const second = signal();
    await subscriber.subscribe(TOPIC, ({ args }) => {
      got.push(args[0] as string);
      if (got.length === 1) first.resolve();
      if (got.length === 2) second.resolve();
    });
    const publisher = await join(url);
    const big = 'b'.repeat(1024 * 1024);
    await publisher.publish(TOPIC, [big], { acknowledge: true });
    // Once the subscriber has it all, nothing is left in the router's buffer for it.
    await first.promise;
    await publisher.publish(TOPIC, ['small'], { acknowledge: true });
    await second.promise;
    expect(got).toEqual([big, 'small']);
  });

  it('refuses limits that are not positive numbers', () => {
    expect(() => new Router({ realms: ['realm1'], maxOutgoingBuffer: 0 })).toThrow(RangeError);
    expect(() => new Router({ realms: ['realm1'], maxOutgoingBuffer: Number.NaN })).toThrow(RangeError);
    expect(() => new Router({ realms: ['realm1'], slowConsumerTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new Router({ realms: ['realm1'], slowConsumerTimeoutMs: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
