import { describe, expect, it } from 'vitest';
import type { SubscriptionEvent } from '../src/index.js';
import { join, signal, startRouter } from './helpers.js';

describe('meta API', () => {
  it('counts, lists and gets sessions and publishes join/leave', async () => {
    const { url } = await startRouter();
    const watcher = await join(url);
    const joined = signal<SubscriptionEvent>();
    const left = signal<SubscriptionEvent>();
    await watcher.subscribe('wamp.session.on_join', (e) => joined.resolve(e));
    await watcher.subscribe('wamp.session.on_leave', (e) => left.resolve(e));
    const other = await join(url, { authid: 'dave' });
    const otherId = other.session?.id;
    expect((await joined.promise).args[0]).toMatchObject({ session: otherId, authid: 'dave', authrole: 'anonymous' });
    expect((await watcher.call('wamp.session.count')).args).toEqual([2]);
    expect(((await watcher.call('wamp.session.list')).args[0] as number[]).sort()).toEqual([watcher.session?.id, otherId].sort());
    expect((await watcher.call('wamp.session.get', [otherId])).args[0]).toMatchObject({ session: otherId, authid: 'dave' });
    await expect(watcher.call('wamp.session.get', [12345])).rejects.toMatchObject({ uri: 'wamp.error.no_such_session' });
    await other.close();
    expect((await left.promise).args[0]).toBe(otherId);
    expect((await watcher.call('wamp.session.count')).args).toEqual([1]);
  });

  it('answers registration and subscription meta procedures', async () => {
    const { url } = await startRouter();
    const client = await join(url);
    const regId = await client.register('com.example.p', () => 1);
    const subId = await client.subscribe('com.example.', () => undefined, { match: 'prefix' });
    expect((await client.call('wamp.registration.lookup', ['com.example.p'])).args).toEqual([regId]);
    expect((await client.call('wamp.registration.match', ['com.example.p'])).args).toEqual([regId]);
    expect((await client.call('wamp.registration.get', [regId])).args[0]).toMatchObject({ id: regId, uri: 'com.example.p', match: 'exact', invoke: 'single' });
    expect((await client.call('wamp.registration.list_callees', [regId])).args).toEqual([[client.session?.id]]);
    expect((await client.call('wamp.registration.count_callees', [regId])).args).toEqual([1]);
    expect((await client.call('wamp.registration.list')).args[0]).toEqual({ exact: [regId], prefix: [], wildcard: [] });
    expect((await client.call('wamp.subscription.lookup', ['com.example.', { match: 'prefix' }])).args).toEqual([subId]);
    expect((await client.call('wamp.subscription.match', ['com.example.x'])).args).toEqual([[subId]]);
    expect((await client.call('wamp.subscription.get', [subId])).args[0]).toMatchObject({ id: subId, uri: 'com.example.', match: 'prefix' });
    expect((await client.call('wamp.subscription.list_subscribers', [subId])).args).toEqual([[client.session?.id]]);
    expect((await client.call('wamp.subscription.count_subscribers', [subId])).args).toEqual([1]);
    await expect(client.call('wamp.registration.get', [999])).rejects.toMatchObject({ uri: 'wamp.error.no_such_registration' });
    await expect(client.register('wamp.session.count', () => 0)).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(client.publish('wamp.session.on_join', [{ session: 1 }], { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
  });

  it('kills sessions by id, authid and authrole', async () => {
    const { url } = await startRouter();
    const admin = await join(url, { authid: 'admin' });
    const victim = await join(url, { authid: 'mallory' });
    const twins = [await join(url, { authid: 'twin' }), await join(url, { authid: 'twin' })];
    const left = signal<{ reason: string; willReconnect: boolean }>();
    victim.events.on('leave', (info) => left.resolve(info));
    await admin.call('wamp.session.kill', [victim.session?.id], { kwargs: { reason: 'wamp.close.banned', message: 'bye' } });
    expect(await left.promise).toEqual({ reason: 'wamp.close.banned', willReconnect: false });
    const killed = (await admin.call('wamp.session.kill_by_authid', ['twin'])).args[0] as number[];
    expect(killed.sort()).toEqual(twins.map((t) => t.session?.id).sort());
    await Promise.all(twins.map((t) => t.waitUntilDone()));
    await expect(admin.call('wamp.session.kill', [admin.session?.id])).rejects.toMatchObject({ uri: 'wamp.error.no_such_session' });
    expect((await admin.call('wamp.session.kill_by_authrole', ['anonymous'])).args).toEqual([[]]);
    expect((await admin.call('wamp.session.count')).args).toEqual([1]);
  });
});
