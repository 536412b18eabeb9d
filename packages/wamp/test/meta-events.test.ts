import { FaultProxy, useTeardown, withTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { join, rawSession, startRouter } from './helpers.js';

const SUBSCRIBE = 32, SUBSCRIBED = 33, UNSUBSCRIBE = 34, UNSUBSCRIBED = 35, EVENT = 36;
const REGISTER = 64, REGISTERED = 65, UNREGISTER = 66, UNREGISTERED = 67;

type Match = 'exact' | 'prefix' | 'wildcard';

/**
 * A raw session (see helpers) with request ids, subscriptions and EVENT reading: it sees every
 * message in the order the router sent it, so "nothing in between" can be asserted.
 */
async function metaSession(url: string, authid?: string) {
  const roles = { subscriber: {}, publisher: {}, callee: {}, caller: {} };
  const { id, roles: routerRoles, next, send } = await rawSession(url, roles, authid === undefined ? {} : { authid });
  let requestId = 0;
  const topics = new Map<number, string>();
  return {
    id,
    details: { roles: routerRoles },
    next,
    send,
    request(message: unknown[]): number {
      requestId += 1;
      send([message[0], requestId, ...message.slice(1)]);
      return requestId;
    },
    /** Subscribe and wait for SUBSCRIBED; resolves the subscription id. */
    async subscribe(topic: string, match: Match = 'exact'): Promise<number> {
      const id = this.request([SUBSCRIBE, match === 'exact' ? {} : { match }, topic]);
      const answer = await next();
      expect(answer.slice(0, 2)).toEqual([SUBSCRIBED, id]);
      topics.set(answer[2] as number, topic);
      return answer[2] as number;
    },
    /** The next message, which must be an EVENT: `[topic, ...args]`. */
    async event(): Promise<unknown[]> {
      const message = await next();
      expect(message[0]).toBe(EVENT);
      const details = message[3] as { topic?: string };
      return [details.topic ?? topics.get(message[1] as number), ...((message[4] as unknown[] | undefined) ?? [])];
    },
    /** The next `count` EVENTs. */
    async events(count: number): Promise<unknown[][]> {
      const out: unknown[][] = [];
      for (let i = 0; i < count; i++) out.push(await this.event());
      return out;
    },
  };
}

/** A watcher of every registration and subscription meta event (two prefix subscriptions, one wire order). */
async function watcher(url: string): Promise<Awaited<ReturnType<typeof metaSession>>> {
  const session = await metaSession(url);
  await session.subscribe('wamp.registration.', 'prefix');
  await session.subscribe('wamp.subscription.', 'prefix');
  return session;
}

const isoTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

describe('registration and subscription meta events', () => {
  it('publishes on_create, on_register, on_unregister and on_delete for a registration', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    expect(watch.details.roles['dealer']?.features?.['registration_meta_api']).toBe(true);
    expect(watch.details.roles['broker']?.features?.['subscription_meta_api']).toBe(true);
    const callee = await join(url);
    const calleeId = callee.session?.id;
    const regId = await callee.register('com.example.add', () => 1);
    const created = await watch.events(2);
    expect(created).toEqual([
      ['wamp.registration.on_create', calleeId, { id: regId, created: isoTime, uri: 'com.example.add', match: 'exact', invoke: 'single' }],
      ['wamp.registration.on_register', calleeId, regId],
    ]);
    // The details are those of wamp.registration.get.
    expect((await callee.call('wamp.registration.get', [regId])).args[0]).toEqual(created[0]?.[2]);
    await callee.unregister('com.example.add');
    expect(await watch.events(2)).toEqual([
      ['wamp.registration.on_unregister', calleeId, regId],
      ['wamp.registration.on_delete', calleeId, regId],
    ]);
  });

  it('publishes on_create, on_subscribe, on_unsubscribe and on_delete for a subscription', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const subscriber = await join(url);
    const subscriberId = subscriber.session?.id;
    const subId = await subscriber.subscribe('com.example.news', () => undefined);
    const created = await watch.events(2);
    expect(created).toEqual([
      ['wamp.subscription.on_create', subscriberId, { id: subId, created: isoTime, uri: 'com.example.news', match: 'exact' }],
      ['wamp.subscription.on_subscribe', subscriberId, subId],
    ]);
    expect((await subscriber.call('wamp.subscription.get', [subId])).args[0]).toEqual(created[0]?.[2]);
    await subscriber.unsubscribe('com.example.news');
    expect(await watch.events(2)).toEqual([
      ['wamp.subscription.on_unsubscribe', subscriberId, subId],
      ['wamp.subscription.on_delete', subscriberId, subId],
    ]);
  });

  it('answers the acting session first, then sends it the meta events in order', async () => {
    const { url } = await startRouter();
    const session = await watcher(url);
    const register = session.request([REGISTER, {}, 'com.example.own']);
    const registered = await session.next();
    expect(registered.slice(0, 2)).toEqual([REGISTERED, register]);
    const regId = registered[2];
    expect(await session.events(2)).toEqual([
      ['wamp.registration.on_create', session.id, { id: regId, created: isoTime, uri: 'com.example.own', match: 'exact', invoke: 'single' }],
      ['wamp.registration.on_register', session.id, regId],
    ]);
    const unregister = session.request([UNREGISTER, regId]);
    expect(await session.next()).toEqual([UNREGISTERED, unregister]);
    expect(await session.events(2)).toEqual([
      ['wamp.registration.on_unregister', session.id, regId],
      ['wamp.registration.on_delete', session.id, regId],
    ]);
  });

  it('creates and deletes a shared registration once, with one on_register/on_unregister per callee', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const callees = [await join(url), await join(url), await join(url)];
    const ids = callees.map((c) => c.session?.id);
    const regId = await callees[0]?.register('com.example.shared', () => 0, { invoke: 'roundrobin' });
    expect(await callees[1]?.register('com.example.shared', () => 1, { invoke: 'roundrobin' })).toBe(regId);
    expect(await callees[2]?.register('com.example.shared', () => 2, { invoke: 'roundrobin' })).toBe(regId);
    expect(await watch.events(4)).toEqual([
      ['wamp.registration.on_create', ids[0], { id: regId, created: isoTime, uri: 'com.example.shared', match: 'exact', invoke: 'roundrobin' }],
      ['wamp.registration.on_register', ids[0], regId],
      ['wamp.registration.on_register', ids[1], regId],
      ['wamp.registration.on_register', ids[2], regId],
    ]);
    await callees[0]?.unregister('com.example.shared');
    await callees[1]?.unregister('com.example.shared');
    // Barrier: a later registration's on_create comes right after, so no on_delete was sent before it.
    const barrierId = await callees[1]?.register('com.example.barrier', () => 0);
    expect(await watch.events(4)).toEqual([
      ['wamp.registration.on_unregister', ids[0], regId],
      ['wamp.registration.on_unregister', ids[1], regId],
      ['wamp.registration.on_create', ids[1], expect.objectContaining({ id: barrierId, uri: 'com.example.barrier' })],
      ['wamp.registration.on_register', ids[1], barrierId],
    ]);
    await callees[2]?.unregister('com.example.shared');
    expect(await watch.events(2)).toEqual([
      ['wamp.registration.on_unregister', ids[2], regId],
      ['wamp.registration.on_delete', ids[2], regId],
    ]);
  });

  it('creates a subscription once for several subscribers and sends nothing for a repeated subscribe', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const first = await join(url);
    const second = await join(url);
    const subId = await first.subscribe('com.example.topic', () => undefined);
    expect(await second.subscribe('com.example.topic', () => undefined)).toBe(subId);
    expect(await watch.events(3)).toEqual([
      ['wamp.subscription.on_create', first.session?.id, { id: subId, created: isoTime, uri: 'com.example.topic', match: 'exact' }],
      ['wamp.subscription.on_subscribe', first.session?.id, subId],
      ['wamp.subscription.on_subscribe', second.session?.id, subId],
    ]);
    // Subscribing again to a subscription the session has changes nothing: the barrier's events come next.
    expect(await first.subscribe('com.example.topic', () => undefined)).toBe(subId);
    await first.unsubscribe('com.example.topic', subId);
    const barrierId = await first.subscribe('com.example.barrier', () => undefined);
    expect(await watch.events(3)).toEqual([
      ['wamp.subscription.on_unsubscribe', first.session?.id, subId],
      ['wamp.subscription.on_create', first.session?.id, expect.objectContaining({ id: barrierId, uri: 'com.example.barrier' })],
      ['wamp.subscription.on_subscribe', first.session?.id, barrierId],
    ]);
    await second.unsubscribe('com.example.topic');
    expect(await watch.events(2)).toEqual([
      ['wamp.subscription.on_unsubscribe', second.session?.id, subId],
      ['wamp.subscription.on_delete', second.session?.id, subId],
    ]);
  });

  it('carries the match policy of pattern registrations and subscriptions in on_create', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const client = await join(url);
    const id = client.session?.id;
    const prefixReg = await client.register('com.example.', () => 0, { match: 'prefix' });
    const wildcardReg = await client.register('com..get', () => 0, { match: 'wildcard', invoke: 'first' });
    const prefixSub = await client.subscribe('com.example.', () => undefined, { match: 'prefix' });
    const wildcardSub = await client.subscribe('com..changed', () => undefined, { match: 'wildcard' });
    expect(await watch.events(8)).toEqual([
      ['wamp.registration.on_create', id, { id: prefixReg, created: isoTime, uri: 'com.example.', match: 'prefix', invoke: 'single' }],
      ['wamp.registration.on_register', id, prefixReg],
      ['wamp.registration.on_create', id, { id: wildcardReg, created: isoTime, uri: 'com..get', match: 'wildcard', invoke: 'first' }],
      ['wamp.registration.on_register', id, wildcardReg],
      ['wamp.subscription.on_create', id, { id: prefixSub, created: isoTime, uri: 'com.example.', match: 'prefix' }],
      ['wamp.subscription.on_subscribe', id, prefixSub],
      ['wamp.subscription.on_create', id, { id: wildcardSub, created: isoTime, uri: 'com..changed', match: 'wildcard' }],
      ['wamp.subscription.on_subscribe', id, wildcardSub],
    ]);
  });

  it('reaches exact and wildcard subscribers of the meta topics too', async () => {
    const { url } = await startRouter();
    const watch = await metaSession(url);
    await watch.subscribe('wamp.registration.on_register');
    await watch.subscribe('wamp..on_create', 'wildcard');
    const client = await join(url);
    const regId = await client.register('com.example.p', () => 0);
    const subId = await client.subscribe('com.example.t', () => undefined);
    expect(await watch.events(3)).toEqual([
      ['wamp.registration.on_create', client.session?.id, expect.objectContaining({ id: regId, match: 'exact' })],
      ['wamp.registration.on_register', client.session?.id, regId],
      ['wamp.subscription.on_create', client.session?.id, expect.objectContaining({ id: subId, match: 'exact' })],
    ]);
  });

  it("reports a session's registrations and subscriptions with its real id when it says GOODBYE", async () => {
    const { url } = await startRouter();
    const leaver = await join(url, { authid: 'leaver' });
    const stayer = await join(url);
    const soloReg = await leaver.register('com.example.solo', () => 0);
    const sharedReg = await leaver.register('com.example.shared', () => 0, { invoke: 'random' });
    await stayer.register('com.example.shared', () => 1, { invoke: 'random' });
    const subId = await leaver.subscribe('com.example.topic', () => undefined);
    const watch = await watcher(url);
    await watch.subscribe('wamp.session.on_leave');
    const leaverId = leaver.session?.id;
    expect(typeof leaverId).toBe('number');
    await leaver.close();
    expect(await watch.events(6)).toEqual([
      ['wamp.subscription.on_unsubscribe', leaverId, subId],
      ['wamp.subscription.on_delete', leaverId, subId],
      ['wamp.registration.on_unregister', leaverId, soloReg],
      ['wamp.registration.on_delete', leaverId, soloReg],
      ['wamp.registration.on_unregister', leaverId, sharedReg],
      ['wamp.session.on_leave', leaverId, 'leaver', 'anonymous'],
    ]);
    expect((await stayer.call('wamp.registration.list_callees', [sharedReg])).args[0]).toEqual([stayer.session?.id]);
  });

  it("reports a cut connection's registrations and subscriptions with its real id", async () => {
    const { url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const victim = await join(proxy.url('ws', '/ws'));
    const regId = await victim.register('com.example.victim', () => 0);
    const subId = await victim.subscribe('com.example.victim.news', () => undefined);
    const watch = await watcher(url);
    await watch.subscribe('wamp.session.on_leave');
    const victimId = victim.session?.id;
    expect(typeof victimId).toBe('number');
    proxy.cutAll();
    expect(await watch.events(5)).toEqual([
      ['wamp.subscription.on_unsubscribe', victimId, subId],
      ['wamp.subscription.on_delete', victimId, subId],
      ['wamp.registration.on_unregister', victimId, regId],
      ['wamp.registration.on_delete', victimId, regId],
      ['wamp.session.on_leave', victimId, `anonymous-${victimId}`, 'anonymous'],
    ]);
  });

  it('reports the callees force_reregister pushes out', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const old = await join(url);
    const regId = await old.register('com.example.p', () => 'old');
    await watch.events(2);
    const taker = await join(url);
    expect(await taker.register('com.example.p', () => 'new', { options: { force_reregister: true } })).toBe(regId);
    expect(await watch.events(2)).toEqual([
      ['wamp.registration.on_unregister', old.session?.id, regId],
      ['wamp.registration.on_register', taker.session?.id, regId],
    ]);
    expect((await old.call('com.example.p')).args).toEqual(['new']);
  });

  it('sends no meta events for subscriptions to the meta topics themselves', async () => {
    const { url } = await startRouter();
    const watch = await watcher(url);
    const other = await join(url);
    await other.subscribe('wamp.subscription.on_create', () => undefined);
    await other.subscribe('wamp.session.', () => undefined, { match: 'prefix' });
    await other.unsubscribe('wamp.subscription.on_create');
    // The first event the watcher gets (neither its own subscriptions nor the ones above made any) is this one.
    const subId = await other.subscribe('com.example.after', () => undefined);
    expect(await watch.event()).toEqual(['wamp.subscription.on_create', other.session?.id, expect.objectContaining({ id: subId, uri: 'com.example.after' })]);
  });

  it('sends nothing more to a watcher after it unsubscribed', async () => {
    const { url } = await startRouter();
    const watch = await metaSession(url);
    const metaSub = await watch.subscribe('wamp.registration.on_create');
    const barrierSub = await watch.subscribe('com.example.barrier');
    const actor = await join(url);
    const firstReg = await actor.register('com.example.first', () => 0);
    expect(await watch.event()).toEqual(['wamp.registration.on_create', actor.session?.id, expect.objectContaining({ id: firstReg })]);
    const unsubscribe = watch.request([UNSUBSCRIBE, metaSub]);
    expect(await watch.next()).toEqual([UNSUBSCRIBED, unsubscribe]);
    await actor.register('com.example.second', () => 0);
    await actor.publish('com.example.barrier', ['after'], { acknowledge: true });
    const message = await watch.next();
    expect(message.slice(0, 2)).toEqual([EVENT, barrierSub]);
    expect(message[4]).toEqual(['after']);
  });

  it('asks the authorization hook before a session subscribes to the meta topics', async () => {
    const { url } = await startRouter({
      authorize: (session, uri, action) => action !== 'subscribe' || !uri.startsWith('wamp.') || session.authid === 'admin',
    });
    const nosy = await join(url, { authid: 'nosy' });
    await expect(nosy.subscribe('wamp.registration.on_create', () => undefined)).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    const admin = await metaSession(url, 'admin');
    await admin.subscribe('wamp.registration.on_create');
    const regId = await nosy.register('com.example.watched', () => 0);
    expect(await admin.event()).toEqual(['wamp.registration.on_create', nosy.session?.id, expect.objectContaining({ id: regId })]);
  });
});
