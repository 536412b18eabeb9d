import { FaultProxy, withTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import {
  ApplicationError, ErrorUri, UnavailableError, type Client, type RegistrationRevoked, type SubscriptionEvent, type SubscriptionRevoked,
} from '../src/index.js';
import type { InvokePolicy, Router } from '../src/router/index.js';
import { join, rawSession, signal, startRouter } from './helpers.js';

const SERIALIZERS = ['json', 'msgpack'] as const;

/** Register `procedure` with `invoke` on one client per name; each answers its name or, when in `unavailable`, refuses. */
async function callees(url: string, procedure: string, invoke: InvokePolicy, names: string[], unavailable: Set<string>, hits: string[]): Promise<Client[]> {
  const clients: Client[] = [];
  for (const name of names) {
    const client = await join(url);
    await client.register(procedure, () => {
      hits.push(name);
      if (!unavailable.has(name)) return name;
      // Both ways of saying "unavailable" must work.
      throw name.endsWith('2') ? new ApplicationError(ErrorUri.UNAVAILABLE) : new UnavailableError();
    }, { invoke });
    clients.push(client);
  }
  return clients;
}

function realmOf(router: Router) {
  const realm = router.realm('realm1');
  if (realm === undefined) throw new Error('no realm1');
  return realm;
}

describe.each(SERIALIZERS)('call re-routing (%s)', (serializer) => {
  it('goes on to the next callee of a roundrobin registration', async () => {
    const { url } = await startRouter();
    const hits: string[] = [];
    await callees(url, 'com.rr', 'roundrobin', ['a1', 'b', 'c'], new Set(['a1']), hits);
    const caller = await join(url, { serializer });
    const results: unknown[] = [];
    for (let i = 0; i < 4; i++) results.push((await caller.call('com.rr', [], { kwargs: { i } })).args[0]);
    // a1 is asked in its turn, refuses, and the call moves on without the caller noticing.
    expect(results).toEqual(['b', 'c', 'b', 'c']);
    expect(hits).toEqual(['a1', 'b', 'c', 'a1', 'b', 'c']);
  });

  it('skips every callee that was unavailable for the call (first, last, random)', async () => {
    const { url } = await startRouter();
    const hits: string[] = [];
    await callees(url, 'com.first', 'first', ['f1', 'f2', 'f3'], new Set(['f1', 'f2']), hits);
    const caller = await join(url, { serializer });
    expect((await caller.call('com.first', ['x'])).args).toEqual(['f3']);
    expect(hits).toEqual(['f1', 'f2', 'f3']);

    hits.length = 0;
    await callees(url, 'com.last', 'last', ['l1', 'l2', 'l3'], new Set(['l3', 'l2']), hits);
    expect((await caller.call('com.last')).args).toEqual(['l1']);
    expect(hits).toEqual(['l3', 'l2', 'l1']);

    hits.length = 0;
    await callees(url, 'com.random', 'random', ['r1', 'r2', 'r3'], new Set(['r1', 'r2']), hits);
    for (let i = 0; i < 5; i++) expect((await caller.call('com.random')).args).toEqual(['r3']);
    expect(hits.filter((h) => h === 'r3')).toHaveLength(5);
    // Nobody is asked twice for one call: at most 3 hits per call.
    expect(hits.length).toBeLessThanOrEqual(15);
  });

  it('answers wamp.error.no_available_callee once every callee was unavailable', async () => {
    const { url } = await startRouter();
    const hits: string[] = [];
    await callees(url, 'com.busy', 'roundrobin', ['x1', 'x2', 'x3'], new Set(['x1', 'x2', 'x3']), hits);
    const caller = await join(url, { serializer });
    await expect(caller.call('com.busy')).rejects.toMatchObject({ uri: ErrorUri.NO_AVAILABLE_CALLEE });
    expect([...hits].sort()).toEqual(['x1', 'x2', 'x3']);
  });

  it('answers wamp.error.no_available_callee for a single registration that is unavailable', async () => {
    const { url } = await startRouter();
    const hits: string[] = [];
    await callees(url, 'com.single', 'single', ['s1'], new Set(['s1']), hits);
    const caller = await join(url, { serializer });
    await expect(caller.call('com.single')).rejects.toMatchObject({ uri: ErrorUri.NO_AVAILABLE_CALLEE });
    expect(hits).toEqual(['s1']);
  });
});

describe('call re-routing on the wire', () => {
  it('announces the features and sends the re-routed call with fresh INVOCATIONs', async () => {
    const { url } = await startRouter();
    const first = await rawSession(url, { callee: { features: { call_reroute: true } } });
    expect(first.roles['dealer']?.features).toMatchObject({ call_reroute: true, registration_revocation: true });
    expect(first.roles['broker']?.features).toMatchObject({ subscription_revocation: true });
    first.send([64, 1, { invoke: 'first' }, 'com.raw.rr']);
    const registered = await first.next();
    const second = await rawSession(url, { callee: {} });
    second.send([64, 1, { invoke: 'first' }, 'com.raw.rr']);
    expect(await second.next()).toEqual([65, 1, registered[2]]);
    const caller = await join(url);
    const call = caller.call('com.raw.rr', ['payload'], { kwargs: { k: 1 } });
    const toFirst = await first.next();
    expect(toFirst).toEqual([68, expect.any(Number), registered[2], {}, ['payload'], { k: 1 }]);
    first.send([8, 68, toFirst[1], {}, 'wamp.error.unavailable']);
    const toSecond = await second.next();
    expect(toSecond).toEqual([68, expect.any(Number), registered[2], {}, ['payload'], { k: 1 }]);
    // A late answer from the unavailable callee is dropped; the second callee's answer counts.
    first.send([70, toFirst[1], {}, ['late']]);
    second.send([70, toSecond[1], {}, ['done']]);
    expect((await call).args).toEqual(['done']);
  });
});

describe.each(SERIALIZERS)('registration and subscription revocation (%s)', (serializer) => {
  it('revokes a registration: the callee is told, calls fail, meta events go out, no re-register on reconnect', async () => {
    const { router, url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const callee = await join(proxy.url('ws', '/ws'), { serializer, reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 } });
    const regId = await callee.register('com.revoked', () => 'r');
    await callee.register('com.kept', () => 'k');
    const watcher = await join(url, { serializer });
    const metaEvents: [string, unknown[]][] = [];
    const deleted = signal<SubscriptionEvent>();
    await watcher.subscribe('wamp.registration.on_unregister', (e) => void metaEvents.push(['unregister', e.args]));
    await watcher.subscribe('wamp.registration.on_delete', (e) => {
      metaEvents.push(['delete', e.args]);
      deleted.resolve(e);
    });
    const revoked = signal<RegistrationRevoked>();
    callee.events.on('registration-revoked', (info) => revoked.resolve(info));
    expect(realmOf(router).dealer.removeCallee(regId, callee.session?.id ?? 0, 'maintenance')).toBe(true);
    expect(await revoked.promise).toEqual({ id: regId, procedure: 'com.revoked', reason: 'maintenance' });
    await deleted.promise;
    expect(metaEvents).toEqual([['unregister', [callee.session?.id, regId]], ['delete', [callee.session?.id, regId]]]);
    expect(callee.getRegistrationIds('com.revoked')).toEqual([]);
    await expect(watcher.call('com.revoked')).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_PROCEDURE });
    expect(realmOf(router).dealer.removeCallee(regId, callee.session?.id ?? 0)).toBe(false);

    const restored = signal<{ registrations: number; subscriptions: number }>();
    callee.events.on('restored', (counts) => restored.resolve(counts));
    proxy.cutAll();
    expect(await restored.promise).toEqual({ registrations: 1, subscriptions: 0 });
    expect((await watcher.call('com.kept')).args).toEqual(['k']);
    await expect(watcher.call('com.revoked')).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_PROCEDURE });
  });

  it('revokes a subscription: the subscriber is told, gets no more events, meta events go out', async () => {
    const { router, url } = await startRouter();
    const subscriber = await join(url, { serializer });
    const received: unknown[] = [];
    const subId = await subscriber.subscribe('com.news', (e) => void received.push(e.args[0]));
    const watcher = await join(url, { serializer });
    const metaEvents: [string, unknown[]][] = [];
    const deleted = signal<SubscriptionEvent>();
    await watcher.subscribe('wamp.subscription.on_unsubscribe', (e) => void metaEvents.push(['unsubscribe', e.args]));
    await watcher.subscribe('wamp.subscription.on_delete', (e) => {
      metaEvents.push(['delete', e.args]);
      deleted.resolve(e);
    });
    await watcher.publish('com.news', ['before'], { acknowledge: true });
    const revoked = signal<SubscriptionRevoked>();
    subscriber.events.on('subscription-revoked', (info) => revoked.resolve(info));
    expect(realmOf(router).broker.removeSubscriber(subId, subscriber.session?.id ?? 0)).toBe(true);
    expect(await revoked.promise).toEqual({ id: subId, topic: 'com.news', reason: undefined });
    await deleted.promise;
    expect(metaEvents).toEqual([['unsubscribe', [subscriber.session?.id, subId]], ['delete', [subscriber.session?.id, subId]]]);
    expect(subscriber.getSubscriptionIds('com.news')).toEqual([]);
    expect((await watcher.call('wamp.subscription.lookup', ['com.news'])).args).toEqual([null]);
    // Events after the revocation: a marker on another topic, published later, arrives; the news does not.
    const marker = signal<SubscriptionEvent>();
    await subscriber.subscribe('com.marker', (e) => marker.resolve(e));
    await watcher.publish('com.news', ['after'], { acknowledge: true });
    await watcher.publish('com.marker', [1], { acknowledge: true });
    await marker.promise;
    expect(received).toEqual(['before']);
  });

  it('revokes through the meta procedures, which the authorization hook guards', async () => {
    const { url } = await startRouter({
      authorize: (session, uri, action) => action !== 'call' || !uri.includes('.remove_') || session.authid === 'admin',
    });
    const member = await join(url, { serializer, authid: 'member' });
    const regId = await member.register('com.meta.p', () => 'p');
    const subId = await member.subscribe('com.meta.t', () => undefined);
    const memberId = member.session?.id;
    const intruder = await join(url, { serializer, authid: 'intruder' });
    await expect(intruder.call('wamp.registration.remove_callee', [regId, memberId])).rejects.toMatchObject({ uri: ErrorUri.NOT_AUTHORIZED });
    await expect(intruder.call('wamp.subscription.remove_subscriber', [subId, memberId])).rejects.toMatchObject({ uri: ErrorUri.NOT_AUTHORIZED });
    expect((await intruder.call('com.meta.p')).args).toEqual(['p']);
    expect((await intruder.call('wamp.subscription.count_subscribers', [subId])).args).toEqual([1]);

    const admin = await join(url, { serializer, authid: 'admin' });
    await expect(admin.call('wamp.registration.remove_callee', [regId, 424242])).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_SESSION });
    await expect(admin.call('wamp.registration.remove_callee', [regId, admin.session?.id])).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_REGISTRATION });
    await expect(admin.call('wamp.subscription.remove_subscriber', [subId + 1, memberId])).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_SUBSCRIPTION });
    await expect(admin.call('wamp.registration.remove_callee', ['x', memberId])).rejects.toMatchObject({ uri: ErrorUri.INVALID_ARGUMENT });
    const registrationRevoked = signal<RegistrationRevoked>();
    const subscriptionRevoked = signal<SubscriptionRevoked>();
    member.events.on('registration-revoked', (info) => registrationRevoked.resolve(info));
    member.events.on('subscription-revoked', (info) => subscriptionRevoked.resolve(info));
    expect((await admin.call('wamp.registration.remove_callee', [regId, memberId], { kwargs: { reason: 'moved' } })).args).toEqual([null]);
    expect((await admin.call('wamp.subscription.remove_subscriber', [subId, memberId, 'banned'])).args).toEqual([null]);
    expect(await registrationRevoked.promise).toEqual({ id: regId, procedure: 'com.meta.p', reason: 'moved' });
    expect(await subscriptionRevoked.promise).toEqual({ id: subId, topic: 'com.meta.t', reason: 'banned' });
    await expect(admin.call('com.meta.p')).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_PROCEDURE });
    await expect(admin.call('wamp.subscription.get', [subId])).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_SUBSCRIPTION });
  });
});

describe('revocation on the wire', () => {
  it('sends UNREGISTERED / UNSUBSCRIBED with request id 0 to a session that announced the features', async () => {
    const { url } = await startRouter();
    const peer = await rawSession(url, {
      callee: { features: { registration_revocation: true } }, subscriber: { features: { subscription_revocation: true } },
    });
    peer.send([64, 1, {}, 'com.wire.p']);
    const registered = await peer.next();
    peer.send([32, 2, {}, 'com.wire.t']);
    const subscribed = await peer.next();
    const admin = await join(url);
    await admin.call('wamp.registration.remove_callee', [registered[2], peer.id, 'gone']);
    expect(await peer.next()).toEqual([67, 0, { registration: registered[2], reason: 'gone' }]);
    await admin.call('wamp.subscription.remove_subscriber', [subscribed[2], peer.id]);
    expect(await peer.next()).toEqual([35, 0, { subscription: subscribed[2] }]);
  });

  it('revokes silently from a session that did not announce the features', async () => {
    const { url } = await startRouter();
    const peer = await rawSession(url, { callee: {}, subscriber: {} });
    peer.send([64, 1, {}, 'com.silent.p']);
    const registered = await peer.next();
    peer.send([32, 2, {}, 'com.silent.t']);
    const subscribed = await peer.next();
    const admin = await join(url);
    await admin.call('wamp.registration.remove_callee', [registered[2], peer.id]);
    await admin.call('wamp.subscription.remove_subscriber', [subscribed[2], peer.id]);
    await expect(admin.call('com.silent.p')).rejects.toMatchObject({ uri: ErrorUri.NO_SUCH_PROCEDURE });
    await admin.publish('com.silent.t', ['dropped'], { acknowledge: true });
    // The next message the peer gets answers its next request: no UNREGISTERED, UNSUBSCRIBED or EVENT came before it.
    peer.send([64, 3, {}, 'com.silent.other']);
    expect(await peer.next()).toEqual([65, 3, expect.any(Number)]);
    // Its registration and subscription are really gone: unregistering them is refused.
    peer.send([66, 4, registered[2]]);
    expect(await peer.next()).toEqual([8, 66, 4, {}, 'wamp.error.no_such_registration']);
    peer.send([34, 5, subscribed[2]]);
    expect(await peer.next()).toEqual([8, 34, 5, {}, 'wamp.error.no_such_subscription']);
  });
});
