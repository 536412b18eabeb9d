import { FaultProxy, withTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { ClientClosedError, type SubscriptionEvent } from '../src/index.js';
import { join, signal, startRouter } from './helpers.js';

describe('faults through FaultProxy', () => {
  it("rejects the caller's pending calls when its connection is cut mid-call", async () => {
    const { url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const callee = await join(url);
    const started = signal();
    await callee.register('com.example.slow', () => {
      started.resolve();
      return new Promise(() => undefined);
    });
    const caller = await join(proxy.url('ws', '/ws'));
    const left = signal<{ reason: string; willReconnect: boolean }>();
    caller.events.on('leave', (info) => left.resolve(info));
    const calls = [caller.call('com.example.slow'), caller.call('com.example.slow')];
    await started.promise;
    proxy.cutAll();
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(ClientClosedError);
    expect((await left.promise).willReconnect).toBe(false);
    await caller.waitUntilDone();
    expect(caller.closed).toBe(true);
  });

  it("answers a vanished callee's calls with an error", async () => {
    const { url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const callee = await join(proxy.url('ws', '/ws'));
    const started = signal();
    await callee.register('com.example.slow', () => {
      started.resolve();
      return new Promise(() => undefined);
    });
    const caller = await join(url);
    const call = caller.call('com.example.slow');
    await started.promise;
    proxy.cutAll();
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    await expect(caller.call('com.example.slow')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
  });

  it('reconnects and restores registrations and subscriptions', async () => {
    const { url, port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const flaky = await join(proxy.url('ws', '/ws'), { reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 } });
    const events: unknown[] = [];
    const afterReconnect = signal<SubscriptionEvent>();
    await flaky.register('com.example.echo', ({ args }) => args[0], { invoke: 'roundrobin' });
    await flaky.subscribe('com.example.news', (event) => {
      events.push(event.args[0]);
      if (event.args[0] === 'after') afterReconnect.resolve(event);
    });
    const other = await join(url);
    expect((await other.call('com.example.echo', ['before'])).args).toEqual(['before']);
    const firstSession = flaky.session?.id;
    const restored = signal<{ registrations: number; subscriptions: number }>();
    flaky.events.on('restored', (counts) => restored.resolve(counts));
    const left = signal<{ reason: string; willReconnect: boolean }>();
    flaky.events.on('leave', (info) => left.resolve(info));
    proxy.cutAll();
    expect((await left.promise).willReconnect).toBe(true);
    expect(await restored.promise).toEqual({ registrations: 1, subscriptions: 1 });
    expect(flaky.session?.id).not.toBe(firstSession);
    expect((await other.call('wamp.registration.lookup', ['com.example.echo'])).args[0]).toEqual(flaky.getRegistrationIds('com.example.echo')[0]);
    expect((await other.call('wamp.subscription.lookup', ['com.example.news'])).args[0]).toEqual(flaky.getSubscriptionIds('com.example.news')[0]);
    expect((await other.call('com.example.echo', ['again'])).args).toEqual(['again']);
    expect(flaky.getRegistrationIds('com.example.echo')).toHaveLength(1);
    await other.publish('com.example.news', ['after'], { acknowledge: true });
    await afterReconnect.promise;
    expect(events).toEqual(['after']);
  });

  it('stops reconnecting when closed while the router is unreachable', async () => {
    const { port } = await startRouter();
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port } }), (p) => p.close());
    const client = await join(proxy.url('ws', '/ws'), { reconnect: { initialDelayMs: 10, maxDelayMs: 20, jitter: 0 } });
    const left = signal<{ reason: string; willReconnect: boolean }>();
    client.events.on('leave', (info) => left.resolve(info));
    proxy.refuseNew();
    proxy.cutAll();
    expect((await left.promise).willReconnect).toBe(true);
    expect(client.session).toBeUndefined();
    await client.close();
    await client.waitUntilDone();
    expect(client.closed).toBe(true);
  });
});
