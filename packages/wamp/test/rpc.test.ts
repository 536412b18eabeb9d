import { describe, expect, it } from 'vitest';
import { ApplicationError, CanceledError, ClientClosedError, ErrorRegistry, Result } from '../src/index.js';
import { join, signal, startRouter } from './helpers.js';

describe.each(['json', 'msgpack', 'cbor'] as const)('RPC over WebSocket (%s)', (serializer) => {
  it('calls a registered procedure with args and kwargs', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await callee.register('com.example.add', ({ args, kwargs }) => new Result([(args[0] as number) + (args[1] as number)], { echo: kwargs['x'] }));
    const result = await caller.call('com.example.add', [2, 3], { kwargs: { x: 'y' } });
    expect(result.args).toEqual([5]);
    expect(result.kwargs).toEqual({ echo: 'y' });
  });

  it('sends a plain return value as args[0] and undefined as no args', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await callee.register('com.example.obj', () => ({ a: [1, 2], big: 2 ** 40 }));
    await callee.register('com.example.nothing', () => undefined);
    expect((await caller.call('com.example.obj')).args).toEqual([{ a: [1, 2], big: 2 ** 40 }]);
    expect((await caller.call('com.example.nothing')).args).toEqual([]);
  });

  it('maps application errors to registered classes', async () => {
    class NotFound extends ApplicationError {}
    const errors = new ErrorRegistry();
    errors.register('com.example.error.*', NotFound);
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer, errors });
    await callee.register('com.example.fail', () => {
      throw new ApplicationError('com.example.error.not_found', { args: ['gone'], kwargs: { id: 7 } });
    });
    await callee.register('com.example.crash', () => {
      throw new Error('boom');
    });
    const error = await caller.call('com.example.fail').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect(error).toMatchObject({ uri: 'com.example.error.not_found', args: ['gone'], kwargs: { id: 7 } });
    await expect(caller.call('com.example.crash')).rejects.toMatchObject({ uri: 'wamp.error.runtime_error', args: ['boom'] });
    await expect(caller.call('com.example.missing')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
  });

  it('streams progressive results from an async generator', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await callee.register('com.example.count', async function* ({ args }) {
      for (let i = 1; i <= (args[0] as number); i++) yield i;
      return 'done';
    });
    const call = caller.call('com.example.count', [3], { receiveProgress: true });
    const seen: unknown[] = [];
    for await (const progress of call) seen.push(progress.args[0]);
    expect(seen).toEqual([1, 2, 3]);
    expect((await call).args).toEqual(['done']);
    // Without receiveProgress only the final result travels.
    expect((await caller.call('com.example.count', [2])).args).toEqual(['done']);
  });

  it('sends progress through invocation.progress()', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await callee.register('com.example.steps', (inv) => {
      inv.progress(['a']);
      inv.progress(['b'], { k: 1 });
      return 'end';
    });
    const call = caller.call('com.example.steps', [], { receiveProgress: true });
    const seen: unknown[] = [];
    for await (const p of call) seen.push([p.args, p.kwargs]);
    expect(seen).toEqual([[['a'], {}], [['b'], { k: 1 }]]);
    expect((await call).args).toEqual(['end']);
  });

  it.each(['kill', 'killnowait', 'skip'] as const)('cancels a call with mode %s', async (mode) => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    const started = signal();
    const interrupted = signal<string>();
    await callee.register('com.example.slow', ({ signal: abort }) => {
      started.resolve();
      return new Promise((_resolve, reject) => {
        abort.addEventListener('abort', () => {
          interrupted.resolve('interrupted');
          reject(new Error('stopped'));
        });
      });
    });
    const controller = new AbortController();
    const call = caller.call('com.example.slow', [], { signal: controller.signal, cancelMode: mode });
    await started.promise;
    controller.abort();
    const error = await call.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CanceledError);
    if (mode !== 'skip') expect(await interrupted.promise).toBe('interrupted');
  });

  it('times out a call at the dealer and interrupts the callee', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    const interrupted = signal();
    await callee.register('com.example.never', ({ signal: abort }) => new Promise((_r, reject) => {
      abort.addEventListener('abort', () => {
        interrupted.resolve();
        reject(new Error('timeout'));
      });
    }));
    await expect(caller.call('com.example.never', [], { timeoutMs: 50 })).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    await interrupted.promise;
  });

  it('discloses the caller when asked', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer, authid: 'alice' });
    await callee.register('com.example.who', ({ details }) => details['caller'] ?? null, { discloseCaller: true });
    await callee.register('com.example.anon', ({ details }) => details['caller'] ?? null);
    expect((await caller.call('com.example.who')).args).toEqual([caller.session?.id]);
    expect((await caller.call('com.example.anon')).args).toEqual([null]);
    expect((await caller.call('com.example.anon', [], { discloseMe: true })).args).toEqual([caller.session?.id]);
  });

  it('routes prefix and wildcard registrations, exact first', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await callee.register('com.example.', ({ procedure }) => `prefix:${procedure}`, { match: 'prefix' });
    await callee.register('com..get', ({ procedure }) => `wildcard:${procedure}`, { match: 'wildcard' });
    await callee.register('com.example.exact', () => 'exact');
    expect((await caller.call('com.example.exact')).args).toEqual(['exact']);
    expect((await caller.call('com.example.other')).args).toEqual(['prefix:com.example.other']);
    expect((await caller.call('com.thing.get')).args).toEqual(['wildcard:com.thing.get']);
  });

  it('shares registrations with invoke policies', async () => {
    const { url } = await startRouter();
    const a = await join(url, { serializer });
    const b = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await a.register('com.example.rr', () => 'a', { invoke: 'roundrobin' });
    await b.register('com.example.rr', () => 'b', { invoke: 'roundrobin' });
    const rr = [];
    for (let i = 0; i < 4; i++) rr.push((await caller.call('com.example.rr')).args[0]);
    expect(rr).toEqual(['a', 'b', 'a', 'b']);
    await a.register('com.example.first', () => 'a', { invoke: 'first' });
    await b.register('com.example.first', () => 'b', { invoke: 'first' });
    expect((await caller.call('com.example.first')).args).toEqual(['a']);
    await a.register('com.example.last', () => 'a', { invoke: 'last' });
    await b.register('com.example.last', () => 'b', { invoke: 'last' });
    expect((await caller.call('com.example.last')).args).toEqual(['b']);
    await a.register('com.example.random', () => 'a', { invoke: 'random' });
    await b.register('com.example.random', () => 'b', { invoke: 'random' });
    expect(['a', 'b']).toContain((await caller.call('com.example.random')).args[0]);
    await a.register('com.example.single', () => 'a');
    await expect(b.register('com.example.single', () => 'b')).rejects.toMatchObject({ uri: 'wamp.error.procedure_already_exists' });
    await expect(b.register('com.example.rr', () => 'b', { invoke: 'first' })).rejects.toMatchObject({ uri: 'wamp.error.procedure_already_exists' });
  });

  it('unregisters and lists registration ids', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    const id = await callee.register('com.example.gone', () => 1);
    expect(callee.getRegistrationIds('com.example.gone')).toEqual([id]);
    await callee.unregister('com.example.gone');
    expect(callee.getRegistrationIds('com.example.gone')).toEqual([]);
    await expect(caller.call('com.example.gone')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    await expect(callee.unregister('com.example.gone')).rejects.toMatchObject({ uri: 'wamp.error.no_such_registration' });
  });

  it('answers callers with an error when the callee leaves mid-call', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    const started = signal();
    await callee.register('com.example.hang', () => {
      started.resolve();
      return new Promise(() => undefined);
    });
    const call = caller.call('com.example.hang');
    await started.promise;
    await callee.close();
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
  });

  it('rejects pending calls when the client closes', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    const started = signal();
    await callee.register('com.example.hang', () => {
      started.resolve();
      return new Promise(() => undefined);
    });
    const call = caller.call('com.example.hang');
    await started.promise;
    await caller.close();
    await expect(call).rejects.toBeInstanceOf(ClientClosedError);
    expect(() => caller.call('com.example.hang')).not.toThrow();
    await expect(caller.call('com.example.hang')).rejects.toBeInstanceOf(ClientClosedError);
  });
});
