import { FaultProxy, withTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import type { Client, SubscriptionEvent } from '../src/index.js';
import { collector, join, signal, startRouter } from './helpers.js';

/** What a test looks at in an event. */
const summary = (e: SubscriptionEvent): { args: unknown[]; topic: string; retained: boolean } => ({ args: e.args, topic: e.topic, retained: e.retained });

/**
 * Subscribe `client` to `topic` and collect its events up to (and including) the live event
 * `['end']` that `barrier()` publishes after subscribing: anything the broker wrongly sends
 * before that is seen.
 */
async function eventsUntilEnd(
  client: Client, topic: string, options: Parameters<Client['subscribe']>[2], barrier: () => Promise<unknown>,
): Promise<SubscriptionEvent[]> {
  const events: SubscriptionEvent[] = [];
  const end = signal();
  await client.subscribe(topic, (event) => {
    events.push(event);
    if (event.args[0] === 'end') end.resolve();
  }, options);
  await barrier();
  await end.promise;
  return events;
}

describe.each(['json', 'msgpack'] as const)('event retention (%s)', (serializer) => {
  it('announces event_retention and testament_meta_api in WELCOME', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    const roles = client.session?.details['roles'] as Record<string, { features: Record<string, unknown> }>;
    expect(roles['broker']?.features['event_retention']).toBe(true);
    expect(roles['dealer']?.features['testament_meta_api']).toBe(true);
  });

  it('delivers retained events to new exact, prefix and wildcard subscriptions that ask for them', async () => {
    const { url } = await startRouter();
    const pub = await join(url, { serializer });
    const sub = await join(url, { serializer });
    const publicationId = await pub.publish('com.ret.a', ['a1'], { retain: true, acknowledge: true, kwargs: { n: 1 } });
    await pub.publish('com.ret.b', ['b1'], { retain: true, acknowledge: true });
    await pub.publish('com.other.a', ['o1'], { retain: true, acknowledge: true });

    const exact = signal<SubscriptionEvent>();
    await sub.subscribe('com.ret.a', (e) => exact.resolve(e), { getRetained: true });
    const event = await exact.promise;
    expect(event).toMatchObject({ args: ['a1'], kwargs: { n: 1 }, publicationId, topic: 'com.ret.a', retained: true });
    expect(event.details['retained']).toBe(true);

    const prefix = collector<SubscriptionEvent>(2);
    await sub.subscribe('com.ret.', prefix.push, { match: 'prefix', getRetained: true });
    expect((await prefix.done).map(summary)).toEqual([
      { args: ['a1'], topic: 'com.ret.a', retained: true },
      { args: ['b1'], topic: 'com.ret.b', retained: true },
    ]);

    const wildcard = collector<SubscriptionEvent>(2);
    await sub.subscribe('com..a', wildcard.push, { match: 'wildcard', getRetained: true });
    // Oldest retained first.
    expect((await wildcard.done).map(summary)).toEqual([
      { args: ['a1'], topic: 'com.ret.a', retained: true },
      { args: ['o1'], topic: 'com.other.a', retained: true },
    ]);
  });

  it('keeps only the latest retained event, ignores plain publishes and clears on an empty retained publish', async () => {
    const { url } = await startRouter();
    const pub = await join(url, { serializer });
    await pub.publish('com.ret.t', ['v1'], { retain: true, acknowledge: true });
    await pub.publish('com.ret.t', ['v2'], { retain: true, acknowledge: true });
    await pub.publish('com.ret.t', ['plain'], { acknowledge: true });
    const first = await join(url, { serializer });
    const seen = await eventsUntilEnd(first, 'com.ret.t', { getRetained: true }, () => pub.publish('com.ret.t', ['end'], { acknowledge: true }));
    expect(seen.map(summary)).toEqual([
      { args: ['v2'], topic: 'com.ret.t', retained: true },
      { args: ['end'], topic: 'com.ret.t', retained: false },
    ]);
    await pub.publish('com.ret.t', [], { retain: true, acknowledge: true });
    const second = await join(url, { serializer });
    const after = await eventsUntilEnd(second, 'com.ret.t', { getRetained: true }, () => pub.publish('com.ret.t', ['end'], { acknowledge: true }));
    expect(after.map((e) => e.args)).toEqual([['end']]);
  });

  it('sends no retained event to subscriptions that do not ask for it', async () => {
    const { url } = await startRouter();
    const pub = await join(url, { serializer });
    await pub.publish('com.ret.quiet', ['kept'], { retain: true, acknowledge: true });
    const sub = await join(url, { serializer });
    const seen = await eventsUntilEnd(sub, 'com.ret.quiet', {}, () => pub.publish('com.ret.quiet', ['end'], { acknowledge: true }));
    expect(seen.map(summary)).toEqual([{ args: ['end'], topic: 'com.ret.quiet', retained: false }]);
  });

  it("honours the retained publication's exclusion and eligibility lists and exclude_me", async () => {
    const { url } = await startRouter();
    const pub = await join(url, { serializer, authid: 'publisher' });
    const alice = await join(url, { serializer, authid: 'alice' });
    const bob = await join(url, { serializer, authid: 'bob' });
    await pub.publish('com.ret.list', ['not-bob'], { retain: true, acknowledge: true, excludeAuthid: ['bob'] });
    await pub.publish('com.ret.only', ['only-bob'], { retain: true, acknowledge: true, eligible: [bob.session?.id as number] });
    const barrier = (topic: string) => () => pub.publish(topic, ['end'], { acknowledge: true });
    expect((await eventsUntilEnd(alice, 'com.ret.list', { getRetained: true }, barrier('com.ret.list'))).map((e) => e.args[0])).toEqual(['not-bob', 'end']);
    expect((await eventsUntilEnd(bob, 'com.ret.list', { getRetained: true }, barrier('com.ret.list'))).map((e) => e.args[0])).toEqual(['end']);
    expect((await eventsUntilEnd(alice, 'com.ret.only', { getRetained: true }, barrier('com.ret.only'))).map((e) => e.args[0])).toEqual(['end']);
    expect((await eventsUntilEnd(bob, 'com.ret.only', { getRetained: true }, barrier('com.ret.only'))).map((e) => e.args[0])).toEqual(['only-bob', 'end']);
    // The publisher excluded itself (exclude_me defaults to true): it does not get its own retained event.
    const own = await eventsUntilEnd(pub, 'com.ret.list', { getRetained: true }, () => alice.publish('com.ret.list', ['end'], { acknowledge: true }));
    expect(own.map((e) => e.args[0])).toEqual(['end']);
  });

  it('delivers the retained event first, then the live events in order', async () => {
    const { url } = await startRouter();
    const pub = await join(url, { serializer });
    const sub = await join(url, { serializer });
    await pub.publish('com.ret.order', ['retained'], { retain: true, acknowledge: true });
    const seen = collector<unknown>(21);
    await sub.subscribe('com.ret.order', async ({ args, retained }) => {
      // A slow handler for the retained event: live events must queue behind it.
      if (retained) await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(args[0]);
    }, { getRetained: true });
    for (let i = 0; i < 20; i++) void pub.publish('com.ret.order', [i]);
    expect(await seen.done).toEqual(['retained', ...Array.from({ length: 20 }, (_, i) => i)]);
  });

  it('keeps at most maxRetainedTopics topics per realm, dropping the oldest', async () => {
    const { url, router } = await startRouter({ maxRetainedTopics: 2 });
    const retained = router.realm('realm1')?.broker.retained;
    const pub = await join(url, { serializer });
    for (const topic of ['com.ret.t1', 'com.ret.t2', 'com.ret.t3']) await pub.publish(topic, [topic], { retain: true, acknowledge: true });
    expect(retained?.topics()).toEqual(['com.ret.t2', 'com.ret.t3']);
    await pub.publish('com.ret.t2', ['again'], { retain: true, acknowledge: true });
    await pub.publish('com.ret.t4', ['com.ret.t4'], { retain: true, acknowledge: true });
    expect(retained?.topics()).toEqual(['com.ret.t2', 'com.ret.t4']);
    const sub = await join(url, { serializer });
    const seen = await eventsUntilEnd(sub, 'com.ret.', { match: 'prefix', getRetained: true }, () => pub.publish('com.ret.end', ['end'], { acknowledge: true }));
    expect(seen.map((e) => e.args[0])).toEqual(['again', 'com.ret.t4', 'end']);
  });

  it('asks the authorization hook before retaining and before handing out retained events', async () => {
    const { url } = await startRouter({
      authorize: (_session, uri, action) => !(action === 'publish' && uri === 'com.ret.secret') && !(action === 'subscribe' && uri === 'com.ret.hidden'),
    });
    const pub = await join(url, { serializer });
    const sub = await join(url, { serializer });
    await expect(pub.publish('com.ret.secret', ['no'], { retain: true, acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await pub.publish('com.ret.hidden', ['kept'], { retain: true, acknowledge: true });
    await expect(sub.subscribe('com.ret.hidden', () => undefined, { getRetained: true })).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    // The refused publication was not retained; the authorized prefix subscription gets what was.
    const seen = await eventsUntilEnd(sub, 'com.ret.', { match: 'prefix', getRetained: true }, () => pub.publish('com.ret.open', ['end'], { acknowledge: true }));
    expect(seen.map(summary)).toEqual([
      { args: ['kept'], topic: 'com.ret.hidden', retained: true },
      { args: ['end'], topic: 'com.ret.open', retained: false },
    ]);
  });
});

describe.each(['json', 'msgpack'] as const)('session testaments (%s)', (serializer) => {
  /** A watcher logging testament events under `com.will.` and sessions leaving, in arrival order. */
  async function watch(url: string): Promise<{ watcher: Client; log: string[]; events: SubscriptionEvent[]; left: Promise<unknown> }> {
    const watcher = await join(url, { serializer });
    const log: string[] = [];
    const events: SubscriptionEvent[] = [];
    const left = signal();
    await watcher.subscribe('com.will.', (event) => {
      events.push(event);
      log.push(`${event.topic}:${String(event.args[0])}`);
    }, { match: 'prefix' });
    await watcher.subscribe('wamp.session.on_leave', () => {
      log.push('left');
      left.resolve();
    });
    return { watcher, log, events, left: left.promise };
  }

  it('publishes the testaments on GOODBYE, detached before destroyed, each once, as the session', async () => {
    const { url } = await startRouter();
    const { watcher, log, events, left } = await watch(url);
    const client = await join(url, { serializer, authid: 'testator' });
    const sessionId = client.session?.id;
    expect((await client.call('wamp.session.add_testament', ['com.will.a', ['d1']])).args).toEqual([null]);
    await client.call('wamp.session.add_testament', ['com.will.b', ['x1'], { k: 1 }], { kwargs: { scope: 'detached' } });
    await client.call('wamp.session.add_testament', ['com.will.a', ['d2']], { kwargs: { publish_options: { disclose_me: true, acknowledge: true } } });
    await client.close();
    await left;
    await watcher.publish('com.will.end', ['end'], { excludeMe: false, acknowledge: true });
    expect(log).toEqual(['com.will.b:x1', 'com.will.a:d1', 'com.will.a:d2', 'left', 'com.will.end:end']);
    expect(events[0]?.kwargs).toEqual({ k: 1 });
    expect(events[2]?.details).toMatchObject({ publisher: sessionId, publisher_authid: 'testator', publisher_authrole: 'anonymous' });
    expect(events[1]?.details['publisher']).toBeUndefined();
  });

  it('publishes the testaments when the connection is cut, retained ones included', async () => {
    const { url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const { log, left } = await watch(url);
    const client = await join(proxy.url('ws', '/ws'), { serializer });
    await client.call('wamp.session.add_testament', ['com.will.gone', ['offline']], { kwargs: { publish_options: { retain: true } } });
    proxy.cutAll();
    await left;
    expect(log).toEqual(['com.will.gone:offline', 'left']);
    const late = await join(url, { serializer });
    const retained = signal<SubscriptionEvent>();
    await late.subscribe('com.will.gone', (event) => retained.resolve(event), { getRetained: true });
    expect(summary(await retained.promise)).toEqual({ args: ['offline'], topic: 'com.will.gone', retained: true });
  });

  it('publishes the testaments on router close before saying goodbye', async () => {
    const { url, router } = await startRouter();
    const { watcher, log } = await watch(url);
    const client = await join(url, { serializer });
    await client.call('wamp.session.add_testament', ['com.will.shutdown', ['bye']]);
    await router.close();
    await watcher.waitUntilDone();
    await client.waitUntilDone();
    expect(log).toEqual(['com.will.shutdown:bye']);
  });

  it('flush_testaments returns how many were dropped and they are not published', async () => {
    const { url } = await startRouter();
    const { watcher, log, left } = await watch(url);
    const client = await join(url, { serializer });
    await client.call('wamp.session.add_testament', ['com.will.a', ['1']]);
    await client.call('wamp.session.add_testament', ['com.will.a', ['2']], { kwargs: { scope: 'destroyed' } });
    await client.call('wamp.session.add_testament', ['com.will.b', ['3']], { kwargs: { scope: 'detached' } });
    expect((await client.call('wamp.session.flush_testaments', [], { kwargs: { scope: 'detached' } })).args).toEqual([1]);
    await client.call('wamp.session.add_testament', ['com.will.c', ['kept']], { kwargs: { scope: 'detached' } });
    expect((await client.call('wamp.session.flush_testaments')).args).toEqual([2]);
    expect((await client.call('wamp.session.flush_testaments')).args).toEqual([0]);
    await client.call('wamp.session.add_testament', ['com.will.d', ['late']]);
    expect((await client.call('wamp.session.flush_testaments', [], { kwargs: { scope: 'destroyed' } })).args).toEqual([1]);
    await client.close();
    await left;
    await watcher.publish('com.will.end', ['end'], { excludeMe: false, acknowledge: true });
    expect(log).toEqual(['com.will.c:kept', 'left', 'com.will.end:end']);
  });

  it('answers invalid arguments with wamp.error.invalid_argument and bad topics with wamp.error.invalid_uri', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    const add = (args: unknown[], kwargs: Record<string, unknown> = {}) => client.call('wamp.session.add_testament', args, { kwargs });
    const invalidArgument = { uri: 'wamp.error.invalid_argument' };
    await expect(add([])).rejects.toMatchObject(invalidArgument);
    await expect(add([42])).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a', 'not a list'])).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a', [], ['not', 'a', 'dict']])).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a', [], {}, 'extra'])).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a'], { scope: 'forever' })).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a'], { publish_options: 'retain' })).rejects.toMatchObject(invalidArgument);
    await expect(add(['com.will.a'], { publish_options: { exclude: ['x'] } })).rejects.toMatchObject(invalidArgument);
    await expect(add(['bad uri'])).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(add(['wamp.session.on_leave'])).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(client.call('wamp.session.flush_testaments', [], { kwargs: { scope: 'sometimes' } })).rejects.toMatchObject(invalidArgument);
    await expect(client.call('wamp.session.flush_testaments', ['destroyed'])).rejects.toMatchObject(invalidArgument);
    expect((await client.call('wamp.session.flush_testaments')).args).toEqual([0]);
  });

  it('refuses a testament on a topic the session may not publish to', async () => {
    const { url } = await startRouter({ authorize: (_session, uri, action) => !(action === 'publish' && uri === 'com.will.secret') });
    const client = await join(url, { serializer });
    await expect(client.call('wamp.session.add_testament', ['com.will.secret', ['x']])).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await client.call('wamp.session.add_testament', ['com.will.open', ['x']]);
    expect((await client.call('wamp.session.flush_testaments')).args).toEqual([1]);
  });
});
