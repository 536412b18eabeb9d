import { describe, expect, it } from 'vitest';
import type { SubscriptionEvent } from '../src/index.js';
import { collector, join, signal, startRouter } from './helpers.js';

describe.each(['json', 'msgpack', 'cbor'] as const)('PubSub over WebSocket (%s)', (serializer) => {
  it('delivers events with args and kwargs, acknowledges publications', async () => {
    const { url } = await startRouter();
    const sub = await join(url, { serializer });
    const pub = await join(url, { serializer });
    const got = signal<SubscriptionEvent>();
    const subscriptionId = await sub.subscribe('com.example.topic', (event) => got.resolve(event));
    const publicationId = await pub.publish('com.example.topic', [1, 'two'], { kwargs: { three: 3 }, acknowledge: true });
    const event = await got.promise;
    expect(event).toMatchObject({ args: [1, 'two'], kwargs: { three: 3 }, subscriptionId, publicationId, topic: 'com.example.topic' });
  });

  it('delivers events of one subscription in order, even with async handlers', async () => {
    const { url } = await startRouter();
    const sub = await join(url, { serializer });
    const pub = await join(url, { serializer });
    const seen = collector<number>(50);
    await sub.subscribe('com.example.order', async ({ args }) => {
      if ((args[0] as number) % 7 === 0) await new Promise((r) => setTimeout(r, 1));
      seen.push(args[0] as number);
    });
    for (let i = 0; i < 50; i++) await pub.publish('com.example.order', [i]);
    expect(await seen.done).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('excludes the publisher unless exclude_me is false', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    const seen: unknown[] = [];
    const second = signal();
    await client.subscribe('com.example.self', ({ args }) => {
      seen.push(args[0]);
      if (args[0] === 'second') second.resolve();
    });
    await client.publish('com.example.self', ['first'], { acknowledge: true });
    await client.publish('com.example.self', ['second'], { acknowledge: true, excludeMe: false });
    await second.promise;
    expect(seen).toEqual(['second']);
  });

  it('applies black- and whitelists by session, authid and authrole', async () => {
    const { url } = await startRouter();
    const alice = await join(url, { serializer, authid: 'alice' });
    const bob = await join(url, { serializer, authid: 'bob' });
    const pub = await join(url, { serializer });
    const seen: string[] = [];
    const last = signal();
    await alice.subscribe('com.example.list', ({ args }) => {
      seen.push(`alice:${String(args[0])}`);
    });
    await bob.subscribe('com.example.list', ({ args }) => {
      seen.push(`bob:${String(args[0])}`);
      if (args[0] === 'end') last.resolve();
    });
    const bobId = bob.session?.id as number;
    const aliceId = alice.session?.id as number;
    await pub.publish('com.example.list', ['ex-session'], { exclude: [aliceId], acknowledge: true });
    await pub.publish('com.example.list', ['el-session'], { eligible: [aliceId], acknowledge: true });
    await pub.publish('com.example.list', ['ex-authid'], { excludeAuthid: ['bob'], acknowledge: true });
    await pub.publish('com.example.list', ['el-authid'], { eligibleAuthid: ['bob'], acknowledge: true });
    await pub.publish('com.example.list', ['ex-role'], { excludeAuthrole: ['anonymous'], acknowledge: true });
    await pub.publish('com.example.list', ['el-role'], { eligibleAuthrole: ['anonymous'], eligible: [bobId], acknowledge: true });
    await pub.publish('com.example.list', ['end'], { eligible: [bobId], acknowledge: true });
    await last.promise;
    expect(seen.sort()).toEqual(['alice:el-session', 'alice:ex-authid', 'bob:el-authid', 'bob:el-role', 'bob:end', 'bob:ex-session']);
  });

  it('discloses the publisher when asked', async () => {
    const { url } = await startRouter();
    const sub = await join(url, { serializer });
    const pub = await join(url, { serializer, authid: 'carol' });
    const got = signal<SubscriptionEvent>();
    await sub.subscribe('com.example.who', (event) => got.resolve(event));
    await pub.publish('com.example.who', [], { discloseMe: true });
    expect((await got.promise).details).toMatchObject({ publisher: pub.session?.id, publisher_authid: 'carol', publisher_authrole: 'anonymous' });
  });

  it('matches prefix and wildcard subscriptions and reports the topic', async () => {
    const { url } = await startRouter();
    const sub = await join(url, { serializer });
    const pub = await join(url, { serializer });
    const prefix = collector<string>(2);
    const wildcard = collector<string>(1);
    await sub.subscribe('com.example.', (e) => prefix.push(e.topic), { match: 'prefix' });
    await sub.subscribe('com..news', (e) => wildcard.push(e.topic), { match: 'wildcard' });
    await pub.publish('com.example.a', [], { acknowledge: true });
    await pub.publish('com.other.news', [], { acknowledge: true });
    await pub.publish('com.example.b', [], { acknowledge: true });
    expect(await prefix.done).toEqual(['com.example.a', 'com.example.b']);
    expect(await wildcard.done).toEqual(['com.other.news']);
  });

  it('unsubscribes and lists subscription ids', async () => {
    const { url } = await startRouter();
    const sub = await join(url, { serializer });
    const id = await sub.subscribe('com.example.t', () => undefined);
    expect(sub.getSubscriptionIds('com.example.t')).toEqual([id]);
    await sub.unsubscribe('com.example.t');
    expect(sub.getSubscriptionIds('com.example.t')).toEqual([]);
    await expect(sub.unsubscribe('com.example.t', id)).rejects.toMatchObject({ uri: 'wamp.error.no_such_subscription' });
    await expect(sub.publish('bad uri', [])).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
  });
});
