import { connectWebSocket } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { DDPClient, SubscriptionError } from '../src/index.js';
import {
  DDPError,
  RateLimiter,
  type DDPServerOptions,
  type LoginHandler,
  type RateLimitInput,
  type RateLimitResult,
} from '../src/server/index.js';
import { onCleanup, RawPeer, testServer } from './helpers.js';

/** A clock the tests move by hand: no sleeps, no timers. */
interface Clock {
  now: number;
}

const DEFAULT_REASON = (seconds: number): string =>
  `Error, too many requests. Please slow down. You must wait ${seconds} seconds before trying again.`;

/** Logs `name` in as user `name`; the password must be `right`. Counts attempts. */
function passwordLogin(attempts: string[]): LoginHandler {
  return async (request) => {
    if (request.kind !== 'password' || request.user.username === undefined) throw new DDPError(400, 'Unsupported login');
    attempts.push(request.user.username);
    const expected = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('right'))))
      .map((byte) => byte.toString(16).padStart(2, '0'))
      .join('');
    if (typeof request.password === 'string' || request.password.digest !== expected) throw new DDPError(403, 'Incorrect password');
    return { userId: request.user.username };
  };
}

/** A real server on a loopback port with a hand-driven rate limiter, and ways to reach it. */
async function setup(options: DDPServerOptions = {}) {
  const clock: Clock = { now: 1_000 };
  const rateLimiter = new RateLimiter({ now: () => clock.now });
  const { server, errors } = testServer({ rateLimiter, heartbeatIntervalMs: 0, ...options });
  const runs = new Map<string, number>();
  const ran = (name: string): void => {
    runs.set(name, (runs.get(name) ?? 0) + 1);
  };
  server.methods({
    send(text: string) {
      ran('send');
      return text;
    },
    other() {
      ran('other');
      return 'other';
    },
    'admin.a'() {
      ran('admin.a');
    },
    'admin.b'() {
      ran('admin.b');
    },
  });
  server.publish('feed', function () {
    ran('feed');
    this.added('feed', 'one', { n: 1 });
    this.ready();
  });
  const { host, port } = await server.listen({ port: 0 });
  const url = `ws://${host}:${port}/websocket`;
  return {
    server,
    errors,
    clock,
    url,
    runs,
    /** A connected `DDPClient` over WebSocket, disconnected after the test. */
    async client(): Promise<DDPClient> {
      const client = new DDPClient(url, { reconnect: false, heartbeat: false });
      onCleanup(() => client.disconnect());
      await client.connect();
      return client;
    },
    /** A raw DDP peer over WebSocket, after the handshake. */
    async raw(): Promise<RawPeer> {
      const transport = await connectWebSocket(url);
      onCleanup(() => transport.close());
      const peer = new RawPeer(transport);
      await peer.handshake();
      return peer;
    },
  };
}

/** The `DDPError` a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<DDPError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DDPError)) throw new Error(`expected a DDPError, got ${String(error)}`);
  return error;
}

describe('DDP rate limiting over WebSocket', () => {
  it('refuses a method call over its limit without running it and keeps the connection', async () => {
    const { server, runs, client: connect } = await setup();
    server.rateLimiter.addRule({ type: 'method', name: 'send' }, 2, 10_000);
    const client = await connect();
    expect(await client.call('send', 'a')).toBe('a');
    expect(await client.call('send', 'b')).toBe('b');
    const error = await rejection(client.call('send', 'c'));
    expect(error.error).toBe('too-many-requests');
    expect(error.reason).toBe(DEFAULT_REASON(10));
    expect(error.details).toEqual({ timeToReset: 10_000 });
    expect(runs.get('send')).toBe(2);
    expect(client.isConnected).toBe(true);
    expect(await client.call('other')).toBe('other');
  });

  it('answers a refused call with result then updated, timeToReset counted from the window start', async () => {
    const { server, clock, raw } = await setup();
    server.rateLimiter.addRule({ name: 'send' }, 1, 5_000);
    const peer = await raw();
    peer.send({ msg: 'method', id: '1', method: 'send', params: ['x'] });
    expect(await peer.next()).toEqual({ msg: 'result', id: '1', result: 'x' });
    expect(await peer.next()).toEqual({ msg: 'updated', methods: ['1'] });
    clock.now += 1_200;
    peer.send({ msg: 'method', id: '2', method: 'send', params: ['y'] });
    expect(await peer.next()).toEqual({
      msg: 'result',
      id: '2',
      error: {
        error: 'too-many-requests',
        reason: DEFAULT_REASON(4),
        details: { timeToReset: 3_800 },
        message: `${DEFAULT_REASON(4)} [too-many-requests]`,
        errorType: 'Meteor.Error',
      },
    });
    expect(await peer.next()).toEqual({ msg: 'updated', methods: ['2'] });
  });

  it('allows calls again once the interval has passed', async () => {
    const { server, clock, runs, client: connect } = await setup();
    server.rateLimiter.addRule({ name: 'send' }, 1, 1_000);
    const client = await connect();
    clock.now += 300; // the window opens with the first call, not with the rule
    await client.call('send', 'first');
    expect((await rejection(client.call('send', 'refused'))).details).toEqual({ timeToReset: 1_000 });
    clock.now += 999;
    expect((await rejection(client.call('send', 'still refused'))).details).toEqual({ timeToReset: 1 });
    clock.now += 1;
    expect(await client.call('send', 'next window')).toBe('next window');
    expect((await rejection(client.call('send', 'refused again'))).error).toBe('too-many-requests');
    expect(runs.get('send')).toBe(2);
  });

  it('counts each connection separately when the matcher names connectionId', async () => {
    const { server, client: connect } = await setup();
    server.rateLimiter.addRule({ name: 'send', connectionId: () => true }, 1, 1_000);
    const first = await connect();
    const second = await connect();
    await first.call('send', 'a');
    expect((await rejection(first.call('send', 'b'))).error).toBe('too-many-requests');
    expect(await second.call('send', 'c')).toBe('c');
    expect((await rejection(second.call('send', 'd'))).error).toBe('too-many-requests');
    expect(first.isConnected && second.isConnected).toBe(true);
  });

  it('counts all connections together when the matcher leaves connectionId out', async () => {
    const { server, client: connect } = await setup();
    server.rateLimiter.addRule({ name: 'send' }, 1, 1_000);
    const first = await connect();
    const second = await connect();
    await first.call('send', 'a');
    expect((await rejection(second.call('send', 'b'))).error).toBe('too-many-requests');
  });

  it('counts per user across connections when the matcher names userId', async () => {
    const attempts: string[] = [];
    const { server, runs, client: connect } = await setup({ login: passwordLogin(attempts) });
    server.rateLimiter.addRule({ name: 'send', userId: (userId) => userId !== null }, 2, 1_000);
    const [adaOne, adaTwo, bob, anonymous] = await Promise.all([connect(), connect(), connect(), connect()]);
    await adaOne.loginWithPassword({ username: 'ada' }, 'right');
    await adaTwo.loginWithPassword({ username: 'ada' }, 'right');
    await bob.loginWithPassword({ username: 'bob' }, 'right');
    await adaOne.call('send', '1');
    await adaTwo.call('send', '2');
    expect((await rejection(adaOne.call('send', '3'))).error).toBe('too-many-requests');
    expect((await rejection(adaTwo.call('send', '4'))).error).toBe('too-many-requests');
    expect(await bob.call('send', '5')).toBe('5');
    expect(await bob.call('send', '6')).toBe('6');
    for (let index = 0; index < 5; index += 1) expect(await anonymous.call('send', `anon ${index}`)).toBe(`anon ${index}`);
    expect(runs.get('send')).toBe(2 + 2 + 5);
  });

  it('matches with predicates per distinct value and with values by equality', async () => {
    const { server, runs, client: connect } = await setup();
    server.rateLimiter.addRule({ type: 'method', name: (name) => name.startsWith('admin.') }, 1, 1_000);
    server.rateLimiter.addRule({ clientAddress: '10.0.0.1' }, 0, 1_000);
    server.rateLimiter.addRule({ clientAddress: '127.0.0.1', name: 'other' }, 0, 1_000);
    const client = await connect();
    await client.call('admin.a');
    await client.call('admin.b');
    expect((await rejection(client.call('admin.a'))).error).toBe('too-many-requests');
    expect((await rejection(client.call('admin.b'))).error).toBe('too-many-requests');
    for (let index = 0; index < 3; index += 1) await client.call('send', String(index));
    expect((await rejection(client.call('other'))).error).toBe('too-many-requests');
    expect(Object.fromEntries(runs)).toEqual({ 'admin.a': 1, 'admin.b': 1, send: 3 });
  });

  it('refuses subscriptions over the limit with nosub carrying the error', async () => {
    const { server, runs, client: connect } = await setup();
    server.rateLimiter.addRule({ type: 'method', name: 'feed' }, 0, 2_000);
    server.rateLimiter.addRule({ type: 'subscription', name: 'feed' }, 1, 2_000);
    const client = await connect();
    await client.subscribe('feed').wait();
    expect(client.getCollection('feed').get('one')).toEqual({ _id: 'one', n: 1 });
    const error = await rejection(client.subscribe('feed').wait());
    expect(error).toBeInstanceOf(SubscriptionError);
    expect(error.error).toBe('too-many-requests');
    expect(error.reason).toBe(DEFAULT_REASON(2));
    expect(error.details).toEqual({ timeToReset: 2_000 });
    expect(runs.get('feed')).toBe(1);
    expect(client.isConnected).toBe(true);
  });

  it('sends the refusal in nosub on the wire and does not count unknown publications', async () => {
    const { server, clock, runs, raw } = await setup();
    server.rateLimiter.addRule({ type: 'subscription' }, 1, 1_000);
    const peer = await raw();
    peer.send({ msg: 'sub', id: 'n', name: 'nope' });
    expect(await peer.next()).toMatchObject({ msg: 'nosub', id: 'n', error: { error: 404 } });
    peer.send({ msg: 'sub', id: 'a', name: 'feed' });
    await peer.expect('ready');
    clock.now += 250;
    peer.send({ msg: 'sub', id: 'b', name: 'feed' });
    expect(await peer.expect('nosub')).toEqual({
      msg: 'nosub',
      id: 'b',
      error: {
        error: 'too-many-requests',
        reason: DEFAULT_REASON(1),
        details: { timeToReset: 750 },
        message: `${DEFAULT_REASON(1)} [too-many-requests]`,
        errorType: 'Meteor.Error',
      },
    });
    expect(runs.get('feed')).toBe(1);
  });

  it('removeRule lifts a limit; setErrorMessage and setErrorMessageOnRule change the reason', async () => {
    const { server, client: connect } = await setup();
    const limiter = server.rateLimiter;
    const rule = limiter.addRule({ name: 'send' }, 1, 1_000);
    const client = await connect();
    await client.call('send', 'a');
    expect((await rejection(client.call('send', 'b'))).reason).toBe(DEFAULT_REASON(1));
    limiter.setErrorMessage('Slow down');
    expect((await rejection(client.call('send', 'c'))).reason).toBe('Slow down');
    expect(limiter.setErrorMessageOnRule(rule, ({ timeToReset }) => `wait ${timeToReset} ms`)).toBe(true);
    expect((await rejection(client.call('send', 'd'))).reason).toBe('wait 1000 ms');
    expect(limiter.removeRule(rule)).toBe(true);
    for (const text of ['e', 'f', 'g']) expect(await client.call('send', text)).toBe(text);
    expect(limiter.removeRule(rule)).toBe(false);
    expect(limiter.setErrorMessageOnRule(rule, 'gone')).toBe(false);
  });

  it('limits the login method per connection', async () => {
    const attempts: string[] = [];
    const { server, client: connect } = await setup({ login: passwordLogin(attempts) });
    server.rateLimiter.addRule({ type: 'method', name: 'login', connectionId: () => true }, 2, 10_000);
    const attacker = await connect();
    expect((await rejection(attacker.loginWithPassword({ username: 'ada' }, 'guess1'))).error).toBe(403);
    expect((await rejection(attacker.loginWithPassword({ username: 'ada' }, 'guess2'))).error).toBe(403);
    const refused = await rejection(attacker.loginWithPassword({ username: 'ada' }, 'right'));
    expect(refused.error).toBe('too-many-requests');
    expect(refused.details).toEqual({ timeToReset: 10_000 });
    expect(attempts).toEqual(['ada', 'ada']);
    expect(attacker.userId).toBeNull();
    const owner = await connect();
    expect((await owner.loginWithPassword({ username: 'ada' }, 'right')).userId).toBe('ada');
  });

  it('hands every counted invocation to the rule callback', async () => {
    const attempts: string[] = [];
    const { server, client: connect } = await setup({ login: passwordLogin(attempts) });
    const seen: [RateLimitResult, RateLimitInput][] = [];
    const rule = server.rateLimiter.addRule({ name: 'send' }, 1, 1_000, (result, input) => seen.push([result, input]));
    const client = await connect();
    await client.loginWithPassword({ username: 'ada' }, 'right');
    await client.call('send', 'a');
    await rejection(client.call('send', 'b'));
    const input = { type: 'method', name: 'send', userId: 'ada', connectionId: client.sessionId, clientAddress: '127.0.0.1' };
    expect(seen).toEqual([
      [{ allowed: true, timeToReset: 1_000, numInvocationsLeft: 0 }, input],
      [{ allowed: false, timeToReset: 1_000, numInvocationsLeft: 0, ruleId: rule }, input],
    ]);
  });

  it('answers with an internal error and reports it when a matcher throws', async () => {
    const { server, errors, client: connect } = await setup();
    const rule = server.rateLimiter.addRule(
      {
        name: () => {
          throw new Error('broken predicate');
        },
      },
      5,
      1_000,
    );
    const client = await connect();
    const error = await rejection(client.call('send', 'a'));
    expect(error.error).toBe(500);
    expect(errors).toEqual([expect.objectContaining({ message: 'broken predicate' })]);
    server.rateLimiter.removeRule(rule);
    expect(await client.call('send', 'b')).toBe('b');
  });

  it('takes a limiter in the options, shared by several servers', async () => {
    const clock: Clock = { now: 0 };
    const shared = new RateLimiter({ now: () => clock.now });
    const urls: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      const { server } = testServer({ rateLimiter: shared, heartbeatIntervalMs: 0 });
      expect(server.rateLimiter).toBe(shared);
      server.methods({ send: (text: string) => text });
      const { host, port } = await server.listen({ port: 0 });
      urls.push(`ws://${host}:${port}/websocket`);
    }
    shared.addRule({ name: 'send' }, 1, 1_000);
    const [first, second] = urls.map((url) => new DDPClient(url, { reconnect: false, heartbeat: false })) as [DDPClient, DDPClient];
    for (const client of [first, second]) onCleanup(() => client.disconnect());
    await Promise.all([first.connect(), second.connect()]);
    expect(await first.call('send', 'a')).toBe('a');
    expect((await rejection(second.call('send', 'b'))).error).toBe('too-many-requests');
  });
});

describe('RateLimiter', () => {
  const input = (overrides: Partial<RateLimitInput> = {}): RateLimitInput => ({
    type: 'method',
    name: 'send',
    userId: null,
    connectionId: 'c1',
    clientAddress: '127.0.0.1',
    ...overrides,
  });

  it('drops the counters of ended windows', () => {
    const clock: Clock = { now: 0 };
    const limiter = new RateLimiter({ now: () => clock.now });
    const rule = limiter.addRule({ connectionId: () => true }, 5, 1_000);
    for (let index = 0; index < 100; index += 1) limiter.consume(input({ connectionId: `c${index}` }));
    expect(limiter.activeCounters).toBe(100);
    clock.now += 500;
    limiter.consume(input({ connectionId: 'late' }));
    expect(limiter.activeCounters).toBe(101);
    clock.now += 500;
    limiter.consume(input({ connectionId: 'new' }));
    expect(limiter.activeCounters).toBe(2);
    limiter.removeRule(rule);
    expect(limiter.activeCounters).toBe(0);
  });

  it('validates rules and defaults to 10 requests per second', () => {
    const clock: Clock = { now: 0 };
    const limiter = new RateLimiter({ now: () => clock.now });
    expect(() => limiter.addRule({}, -1)).toThrow(RangeError);
    expect(() => limiter.addRule({}, 1.5)).toThrow(RangeError);
    expect(() => limiter.addRule({}, 1, 0)).toThrow(RangeError);
    expect(() => limiter.addRule({}, 1, Number.NaN)).toThrow(RangeError);
    expect(() => limiter.addRule({ method: 'send' } as never)).toThrow(TypeError);
    limiter.addRule({ type: 'method' });
    for (let index = 0; index < 10; index += 1) expect(limiter.consume(input()).allowed).toBe(true);
    expect(limiter.consume(input())).toMatchObject({ allowed: false, timeToReset: 1_000, numInvocationsLeft: 0 });
    expect(limiter.consume(input({ type: 'subscription' })).allowed).toBe(true);
  });

  it('combines rules: any refusal wins with the longest wait, else the tightest rule reports', () => {
    const clock: Clock = { now: 0 };
    const limiter = new RateLimiter({ now: () => clock.now });
    const short = limiter.addRule({ name: 'send' }, 1, 1_000);
    const long = limiter.addRule({ type: 'method' }, 1, 5_000);
    limiter.addRule({ userId: null }, 3, 60_000);
    limiter.setErrorMessageOnRule(long, 'long rule');
    expect(limiter.consume(input())).toEqual({ allowed: true, timeToReset: 1_000, numInvocationsLeft: 0 });
    const refused = limiter.consume(input());
    expect(refused).toEqual({ allowed: false, timeToReset: 5_000, numInvocationsLeft: 0, ruleId: long });
    expect(limiter.errorFor(refused).toErrorObject()).toMatchObject({ error: 'too-many-requests', reason: 'long rule', details: { timeToReset: 5_000 } });
    clock.now += 1_000;
    const onlyLong = limiter.consume(input());
    expect(onlyLong).toEqual({ allowed: false, timeToReset: 4_000, numInvocationsLeft: 0, ruleId: long });
    limiter.removeRule(long);
    clock.now += 1_000;
    expect(limiter.consume(input({ userId: 'ada' }))).toEqual({ allowed: true, timeToReset: 1_000, numInvocationsLeft: 0 });
    expect(limiter.errorMessage({ allowed: false, timeToReset: 1_001, numInvocationsLeft: 0, ruleId: short })).toBe(DEFAULT_REASON(2));
  });
});
