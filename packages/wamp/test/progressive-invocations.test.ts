import type { Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { CanceledError, ClientClosedError, Result, type Client, type Invocation, type InvocationChunk, type SerializerName } from '../src/index.js';
import { connect as connectNode } from '../src/node.js';
import { Router } from '../src/router/index.js';
import { join, rawSession, signal, startRouter } from './helpers.js';

/** Read every further chunk of `invocation`; resolves the args[0] of the chunks that carry args (the first one's included). */
async function readAll(invocation: Invocation): Promise<{ values: unknown[]; chunks: InvocationChunk[] }> {
  const values: unknown[] = [invocation.args[0]];
  const chunks: InvocationChunk[] = [];
  for await (const chunk of invocation.inputs) {
    chunks.push(chunk);
    if (chunk.args.length > 0) values.push(chunk.args[0]);
  }
  return { values, chunks };
}

/** Register `com.example.upload`: collects the whole input, answers with it and how the chunks were flagged. */
async function registerUpload(callee: Client): Promise<void> {
  await callee.register('com.example.upload', async (invocation) => {
    const { values, chunks } = await readAll(invocation);
    return new Result([values], {
      progressive: invocation.progressive,
      finals: chunks.map((c) => c.final),
      progressFlags: chunks.map((c) => c.details['progress'] === true),
      kwargs: chunks.map((c) => c.kwargs),
    });
  });
}

/** Register `com.example.double`: a bidirectional stream answering every chunk with its double. */
async function registerDouble(callee: Client): Promise<void> {
  await callee.register('com.example.double', async function* (invocation) {
    yield (invocation.args[0] as number) * 2;
    for await (const chunk of invocation.inputs) if (chunk.args.length > 0) yield (chunk.args[0] as number) * 2;
    return 'done';
  });
}

/** Drive `com.example.double`: every chunk's answer must arrive before the next chunk is sent. */
async function checkBidirectional(caller: Client): Promise<void> {
  const call = caller.call('com.example.double', [1], { progressive: true, receiveProgress: true });
  const results = call[Symbol.asyncIterator]();
  expect((await results.next()).value).toMatchObject({ args: [2], details: { progress: true } });
  for (let i = 2; i <= 5; i++) {
    call.send([i]);
    expect((await results.next()).value).toMatchObject({ args: [i * 2] });
  }
  call.end();
  expect((await results.next()).done).toBe(true);
  expect((await call).args).toEqual(['done']);
}

/** Register `com.example.sink`: reports its first further chunk and how its inputs ended. */
async function registerSink(callee: Client): Promise<{ gotChunk: Promise<void>; ended: Promise<{ error: unknown; aborted: boolean }> }> {
  const gotChunk = signal();
  const ended = signal<{ error: unknown; aborted: boolean }>();
  await callee.register('com.example.sink', async (invocation) => {
    try {
      for await (const chunk of invocation.inputs) if (chunk.args.length > 0) gotChunk.resolve();
    } catch (error) {
      ended.resolve({ error, aborted: invocation.signal.aborted });
      throw error;
    }
    ended.resolve({ error: undefined, aborted: invocation.signal.aborted });
    return 'complete';
  });
  return { gotChunk: gotChunk.promise, ended: ended.promise };
}

/** A router with a callee serving `com.example.sink` and a caller, both speaking `serializer`. */
async function sinkOnRouter(serializer: SerializerName) {
  const { url } = await startRouter();
  const callee = await join(url, { serializer });
  const caller = await join(url, { serializer });
  return { callee, caller, sink: await registerSink(callee) };
}

describe.each(['json', 'msgpack'] as const)('progressive call invocations over WebSocket (%s)', (serializer) => {
  it('streams an upload of many chunks to the callee and gets one final result', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await registerUpload(callee);
    const call = caller.call('com.example.upload', [0], { progressive: true });
    expect(call.progressive).toBe(true);
    for (let i = 1; i < 20; i++) call.send([i], i === 3 ? { note: 'three' } : undefined);
    call.end([20]);
    expect(call.inputOpen).toBe(false);
    const result = await call;
    expect(result.args).toEqual([Array.from({ length: 21 }, (_, i) => i)]);
    expect(result.kwargs['progressive']).toBe(true);
    expect(result.kwargs['finals']).toEqual([...Array<boolean>(19).fill(false), true]);
    expect(result.kwargs['progressFlags']).toEqual([...Array<boolean>(19).fill(true), false]);
    expect((result.kwargs['kwargs'] as unknown[])[2]).toEqual({ note: 'three' });
    // A plain call to the same procedure is not progressive and has no further inputs.
    const plain = await caller.call('com.example.upload', ['only']);
    expect(plain.args).toEqual([['only']]);
    expect(plain.kwargs['progressive']).toBe(false);
  });

  it('streams an async iterable of inputs, values and Results', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await registerUpload(callee);
    async function* inputs(): AsyncGenerator<unknown> {
      yield 'a';
      yield new Result(['b'], { k: 1 });
      yield 'c';
    }
    const result = await caller.call('com.example.upload', ['start'], { inputs: inputs() });
    // The iterable's end sends an empty final chunk.
    expect(result.args).toEqual([['start', 'a', 'b', 'c']]);
    expect(result.kwargs['finals']).toEqual([false, false, false, true]);
    expect((result.kwargs['kwargs'] as unknown[])[1]).toEqual({ k: 1 });
  });

  it('runs a bidirectional stream with progressive results', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await registerDouble(callee);
    await checkBidirectional(caller);
  });

  it.each(['killnowait', 'kill'] as const)('cancels mid-stream (%s): the callee is aborted, the caller rejects', async (mode) => {
    const { callee, caller, sink } = await sinkOnRouter(serializer);
    const call = caller.call('com.example.sink', ['a'], { progressive: true });
    call.send(['b']);
    await sink.gotChunk;
    call.cancel(mode);
    expect(call.inputOpen).toBe(false);
    await expect(call).rejects.toBeInstanceOf(CanceledError);
    const ended = await sink.ended;
    expect(ended.aborted).toBe(true);
    expect(ended.error).toBeInstanceOf(Error);
    expect(() => call.send(['late'])).not.toThrow();
    await registerUpload(callee);
    expect((await caller.call('com.example.upload', ['next'])).args).toEqual([['next']]);
  });

  it('cancels the call when its inputs iterable throws', async () => {
    const { callee, caller, sink } = await sinkOnRouter(serializer);
    const broken = new Error('the source broke');
    const started = signal();
    async function* inputs(): AsyncGenerator<unknown> {
      yield 'first';
      await started.promise;
      throw broken;
    }
    const call = caller.call('com.example.sink', [], { inputs: inputs() });
    await sink.gotChunk;
    started.resolve();
    await expect(call).rejects.toBe(broken);
    expect((await sink.ended).aborted).toBe(true);
  });

  it('rejects the caller when the callee leaves mid-stream', async () => {
    const { callee, caller, sink } = await sinkOnRouter(serializer);
    const call = caller.call('com.example.sink', ['a'], { progressive: true });
    call.send(['b']);
    await sink.gotChunk;
    await callee.close();
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    expect(call.inputOpen).toBe(false);
    expect(() => call.end(['late'])).not.toThrow();
    // The callee's own handler saw its inputs fail when its session ended.
    expect((await sink.ended).error).toBeInstanceOf(ClientClosedError);
  });

  it('ends the callee inputs with an error when the caller disconnects mid-stream', async () => {
    const { callee, caller, sink } = await sinkOnRouter(serializer);
    const call = caller.call('com.example.sink', ['a'], { progressive: true });
    call.send(['b']);
    await sink.gotChunk;
    await caller.close();
    await expect(call).rejects.toBeInstanceOf(ClientClosedError);
    const ended = await sink.ended;
    expect(ended.error).toBeInstanceOf(Error);
    expect(ended.aborted).toBe(true);
  });

  it('times out a stream the caller never ends', async () => {
    const { callee, caller, sink } = await sinkOnRouter(serializer);
    const call = caller.call('com.example.sink', ['a'], { progressive: true, timeoutMs: 100 });
    call.send(['b']);
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    expect((await sink.ended).aborted).toBe(true);
  });

  it('answers early: the call settles and later chunks are ignored', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    let invocations = 0;
    await callee.register('com.example.first', ({ args }) => {
      invocations += 1;
      return args[0];
    });
    const call = caller.call('com.example.first', ['head'], { progressive: true });
    expect((await call).args).toEqual(['head']);
    expect(call.inputOpen).toBe(false);
    call.send(['ignored']);
    call.end(['ignored']);
    expect((await caller.call('com.example.first', ['plain'])).args).toEqual(['plain']);
    expect(invocations).toBe(2);
  });

  it('sends every chunk to the callee picked for the first CALL of a shared registration', async () => {
    const { url } = await startRouter();
    const a = await join(url, { serializer });
    const b = await join(url, { serializer });
    const caller = await join(url, { serializer });
    for (const [name, client] of [['a', a], ['b', b]] as const) {
      await client.register('com.example.shared', async (invocation) => [name, (await readAll(invocation)).values], { invoke: 'roundrobin' });
    }
    const call = caller.call('com.example.shared', [0], { progressive: true });
    // Plain calls in between move the round robin on; the stream stays with its callee.
    expect((await caller.call('com.example.shared', ['x'])).args).toEqual([['b', ['x']]]);
    call.send([1]);
    expect((await caller.call('com.example.shared', ['y'])).args).toEqual([['a', ['y']]]);
    call.send([2]);
    call.end([3]);
    expect((await call).args).toEqual([['a', [0, 1, 2, 3]]]);
  });

  it('guards the Call API', async () => {
    const { url } = await startRouter();
    const callee = await join(url, { serializer });
    const caller = await join(url, { serializer });
    await registerUpload(callee);
    const plain = caller.call('com.example.upload', [1]);
    expect(plain.progressive).toBe(false);
    expect(() => plain.send([2])).toThrow(TypeError);
    await plain;
    const call = caller.call('com.example.upload', [1], { progressive: true });
    call.end();
    expect(() => call.send([2])).toThrow(TypeError);
    expect(() => call.end()).toThrow(TypeError);
    expect((await call).args).toEqual([[1]]);
  });
});

describe('progressive call invocations over RawSocket', () => {
  it('uploads and streams both ways with MessagePack', async () => {
    const router = new Router({ realms: ['realm1'] });
    const address = await router.listen({ host: '127.0.0.1', port: 0, rawSocketPort: 0 });
    useTeardown(() => router.close());
    const url = address.rawSocketUrl as string;
    expect(url.startsWith('tcp://')).toBe(true);
    const callee = await connectNode(url, { realm: 'realm1', serializer: 'msgpack' });
    useTeardown(() => callee.close());
    const caller = await connectNode(url, { realm: 'realm1', serializer: 'msgpack' });
    useTeardown(() => caller.close());
    await registerUpload(callee);
    await registerDouble(callee);
    const bytes = new Uint8Array([1, 2, 3]);
    const call = caller.call('com.example.upload', ['x'], { progressive: true });
    call.send([bytes]);
    call.end(['z']);
    const [received] = (await call).args as [unknown[]];
    expect(received[0]).toBe('x');
    expect(new Uint8Array(received[1] as Uint8Array)).toEqual(bytes);
    expect(received[2]).toBe('z');
    await checkBidirectional(caller);
  });
});

// Raw JSON sessions: a callee or caller that announces exactly what a test needs, or misbehaves.

const WITH_FEATURE = { progressive_call_invocations: true, call_canceling: true };

/** A raw session announcing `roles`, on a router that announced progressive call invocations. */
async function progressiveSession(url: string, roles: Record<string, unknown>): Promise<Transport> {
  const session = await rawSession(url, roles);
  expect(session.roles['dealer']?.features?.['progressive_call_invocations']).toBe(true);
  return session.transport;
}

async function next(transport: Transport): Promise<unknown> {
  const data = await transport.receive({ timeoutMs: 5000 });
  return data === undefined ? undefined : JSON.parse(data as string);
}

const send = (transport: Transport, message: unknown[]): boolean => transport.write(JSON.stringify(message));

async function expectViolation(transport: Transport, contains: string): Promise<void> {
  const reply = (await next(transport)) as unknown[];
  expect(reply[0]).toBe(3);
  expect(reply[2]).toBe('wamp.error.protocol_violation');
  expect(JSON.stringify(reply[1])).toContain(contains);
  expect(await next(transport)).toBeUndefined();
}

describe('progressive call invocations: refusals and protocol violations', () => {
  it.each([
    ['a callee without the feature', { call_canceling: true }],
    ['a callee without call canceling', { progressive_call_invocations: true }],
  ])('answers wamp.error.feature_not_supported for %s', async (_name, features) => {
    const { url } = await startRouter();
    const rawCallee = await progressiveSession(url, { callee: { features } });
    send(rawCallee, [64, 1, {}, 'com.example.raw']);
    const registered = (await next(rawCallee)) as [number, number, number];
    expect(registered.slice(0, 2)).toEqual([65, 1]);
    const caller = await join(url);
    const call = caller.call('com.example.raw', ['chunk'], { progressive: true });
    await expect(call).rejects.toMatchObject({ uri: 'wamp.error.feature_not_supported' });
    // The callee got nothing of it: the first INVOCATION it sees is the plain call's.
    const plain = caller.call('com.example.raw', ['plain']);
    const invocation = (await next(rawCallee)) as [number, number, number, Record<string, unknown>, unknown[]];
    expect(invocation[0]).toBe(68);
    expect(invocation[3]['progress']).toBeUndefined();
    expect(invocation[4]).toEqual(['plain']);
    send(rawCallee, [70, invocation[1], {}, ['ok']]);
    expect((await plain).args).toEqual(['ok']);
  });

  it('aborts a caller that sends a progressive CALL without announcing the feature', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    const caller = await join(url);
    await registerUpload(callee);
    const rogue = await progressiveSession(url, { caller: { features: { call_canceling: true } } });
    send(rogue, [48, 1, { progress: true }, 'com.example.upload', [1]]);
    await expectViolation(rogue, 'progressive_call_invocations');
    expect((await caller.call('com.example.upload', ['still'])).args).toEqual([['still']]);
  });

  it('aborts a continuation that names another procedure; the callee is interrupted', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    const caller = await join(url);
    const sink = await registerSink(callee);
    await registerUpload(callee);
    const rogue = await progressiveSession(url, { caller: { features: WITH_FEATURE } });
    send(rogue, [48, 1, { progress: true }, 'com.example.sink', ['a']]);
    send(rogue, [48, 1, { progress: true }, 'com.example.sink', ['b']]);
    await sink.gotChunk;
    send(rogue, [48, 1, { progress: true }, 'com.example.upload', ['c']]);
    await expectViolation(rogue, 'com.example.sink');
    expect((await sink.ended).aborted).toBe(true);
    expect((await caller.call('com.example.upload', ['still'])).args).toEqual([['still']]);
  });

  it('aborts a CALL reusing the request id of a pending plain call', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    const caller = await join(url);
    const started = signal();
    const interrupted = signal();
    await callee.register('com.example.hold', ({ signal: abort }) => {
      started.resolve();
      return new Promise((resolve) => abort.addEventListener('abort', () => {
        interrupted.resolve();
        resolve(null);
      }));
    });
    await registerUpload(callee);
    const rogue = await progressiveSession(url, { caller: { features: WITH_FEATURE } });
    send(rogue, [48, 7, {}, 'com.example.hold']);
    await started.promise;
    send(rogue, [48, 7, { progress: true }, 'com.example.hold', ['more']]);
    await expectViolation(rogue, 'request id 7');
    await interrupted.promise;
    expect((await caller.call('com.example.upload', ['still'])).args).toEqual([['still']]);
  });

  it('aborts a chunk sent after the final chunk of a pending call', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    const read = signal<unknown[]>();
    await callee.register('com.example.hold', async (invocation) => {
      read.resolve((await readAll(invocation)).values);
      return new Promise((resolve) => invocation.signal.addEventListener('abort', () => resolve(null)));
    });
    const rogue = await progressiveSession(url, { caller: { features: WITH_FEATURE } });
    send(rogue, [48, 1, { progress: true }, 'com.example.hold', [1]]);
    send(rogue, [48, 1, {}, 'com.example.hold', [2]]);
    expect(await read.promise).toEqual([1, 2]);
    send(rogue, [48, 1, { progress: true }, 'com.example.hold', [3]]);
    await expectViolation(rogue, 'no more chunks');
  });

  it('drops chunks of a call that already ended, and aborts one naming another procedure', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    let invocations = 0;
    await callee.register('com.example.early', ({ args }) => {
      invocations += 1;
      return args[0] ?? null;
    });
    const rogue = await progressiveSession(url, { caller: { features: WITH_FEATURE } });
    send(rogue, [48, 1, { progress: true }, 'com.example.early', ['head']]);
    expect(await next(rogue)).toEqual([50, 1, {}, ['head']]);
    send(rogue, [48, 1, { progress: true }, 'com.example.early', ['late']]);
    send(rogue, [48, 1, { progress: true }, 'com.example.early', ['later']]);
    send(rogue, [48, 2, {}, 'com.example.early', ['plain']]);
    // Nothing answers the late chunks, and the callee only saw the plain call.
    expect(await next(rogue)).toEqual([50, 2, {}, ['plain']]);
    expect(invocations).toBe(2);
    send(rogue, [48, 1, { progress: true }, 'com.example.other', ['x']]);
    await expectViolation(rogue, 'com.example.early');
  });

  it('refuses progressive calls to router procedures and unknown ones once, dropping their chunks', async () => {
    const { url } = await startRouter();
    const rogue = await progressiveSession(url, { caller: { features: WITH_FEATURE } });
    send(rogue, [48, 1, { progress: true }, 'wamp.session.count', []]);
    expect(((await next(rogue)) as unknown[]).slice(0, 5)).toEqual([8, 48, 1, {}, 'wamp.error.feature_not_supported']);
    send(rogue, [48, 2, { progress: true }, 'com.example.missing', []]);
    expect(((await next(rogue)) as unknown[]).slice(0, 5)).toEqual([8, 48, 2, {}, 'wamp.error.no_such_procedure']);
    send(rogue, [48, 1, {}, 'wamp.session.count', []]);
    send(rogue, [48, 2, { progress: true }, 'com.example.missing', []]);
    send(rogue, [48, 2, {}, 'com.example.missing', []]);
    send(rogue, [48, 3, {}, 'wamp.session.count', []]);
    expect(await next(rogue)).toEqual([50, 3, {}, [1]]);
  });
});
