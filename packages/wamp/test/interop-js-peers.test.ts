import autobahn from 'autobahn';
import { Wampy } from 'wampy';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import WebSocket from 'ws';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { ApplicationError, type SubscriptionEvent } from '../src/index.js';
import { join, signal, startRouter } from './helpers.js';

/** wampy's typings expect a browser-like WebSocket constructor; the `ws` class is one at run time. */
const wampyWebSocket = WebSocket as unknown as NonNullable<NonNullable<ConstructorParameters<typeof Wampy>[1]>['ws']>;

type AutobahnSession = Parameters<InstanceType<typeof autobahn.Connection>['onopen']>[0];

function openAutobahn(url: string, serializer: 'json' | 'msgpack' | 'cbor'): Promise<AutobahnSession> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      url, realm: 'realm1', max_retries: 0,
      serializers: [
        serializer === 'msgpack' ? new autobahn.serializer.MsgpackSerializer()
          : serializer === 'cbor' ? new autobahn.serializer.CBORSerializer()
            : new autobahn.serializer.JSONSerializer(),
      ],
    });
    connection.onopen = (session) => {
      useTeardown(() => new Promise<void>((done) => {
        connection.onclose = () => {
          done();
          return true;
        };
        connection.close();
      }));
      resolve(session);
    };
    connection.onclose = (reason) => {
      reject(new Error(`autobahn closed: ${reason}`));
      return true;
    };
    connection.open();
  });
}

describe.each(['json', 'msgpack', 'cbor'] as const)('npm autobahn on our router (%s)', (serializer) => {
  it('our client calls an Autobahn|JS callee and receives its events', async () => {
    const { url } = await startRouter();
    const session = await openAutobahn(url, serializer);
    await session.register('com.ab.add', (args) => (args[0] as number) + (args[1] as number));
    await session.register('com.ab.count', (args, _kwargs, details) => {
      for (let i = 1; i <= (args[0] as number); i++) details.progress?.([i]);
      return 'done';
    });
    await session.register('com.ab.fail', () => {
      throw new autobahn.Error('com.ab.error.bad', ['nope'], { n: 1 });
    });
    const client = await join(url, { serializer });
    expect((await client.call('com.ab.add', [20, 22])).args).toEqual([42]);
    const call = client.call('com.ab.count', [3], { receiveProgress: true });
    const progress: unknown[] = [];
    for await (const p of call) progress.push(p.args[0]);
    expect(progress).toEqual([1, 2, 3]);
    expect((await call).args).toEqual(['done']);
    await expect(client.call('com.ab.fail')).rejects.toMatchObject({ uri: 'com.ab.error.bad', args: ['nope'], kwargs: { n: 1 } });
    const got = signal<SubscriptionEvent>();
    await client.subscribe('com.ab.news', (event) => got.resolve(event));
    await session.publish('com.ab.news', ['fresh'], { n: 2 }, { acknowledge: true });
    expect(await got.promise).toMatchObject({ args: ['fresh'], kwargs: { n: 2 } });
  });

  it('an Autobahn|JS caller calls our callee, with progress and errors', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    await client.register('com.ts.mul', ({ args }) => (args[0] as number) * (args[1] as number));
    await client.register('com.ts.count', async function* () {
      yield 1;
      yield 2;
      return 'end';
    });
    await client.register('com.ts.fail', () => {
      throw new ApplicationError('com.ts.error.no', { args: ['x'] });
    });
    const session = await openAutobahn(url, serializer);
    expect(await session.call('com.ts.mul', [6, 7])).toBe(42);
    const progress: unknown[] = [];
    const final = await new Promise((resolve, reject) => {
      session.call('com.ts.count', [], {}, { receive_progress: true }).then(resolve, reject, (p) => progress.push(p));
    });
    expect(progress).toEqual([1, 2]);
    expect(final).toBe('end');
    const error = await new Promise((resolve) => {
      session.call('com.ts.fail').then(() => resolve(undefined), resolve);
    });
    expect(error).toMatchObject({ error: 'com.ts.error.no', args: ['x'] });
    const own = signal<unknown[]>();
    await session.subscribe('com.ab.self', (args) => own.resolve(args));
    await session.publish('com.ab.self', ['excluded'], {}, { acknowledge: true });
    await session.publish('com.ab.self', ['mine'], {}, { acknowledge: true, exclude_me: false });
    expect(await own.promise).toEqual(['mine']);
  });
});

describe.each(['json', 'msgpack', 'cbor'] as const)('wampy on our router (%s)', (serializer) => {
  async function openWampy(url: string): Promise<Wampy> {
    const wampy = new Wampy(url, {
      realm: 'realm1', ws: wampyWebSocket, autoReconnect: false,
      ...(serializer === 'msgpack' ? { serializer: new MsgpackSerializer() } : serializer === 'cbor' ? { serializer: new CborSerializer() } : {}),
    });
    await wampy.connect();
    useTeardown(() => wampy.disconnect());
    return wampy;
  }

  it('wampy calls our callee and subscribes to our events', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    await client.register('com.ts.echo', ({ args, kwargs }) => ({ args, kwargs }));
    await client.register('com.ts.fail', () => {
      throw new ApplicationError('com.ts.error.no', { args: ['why'] });
    });
    const wampy = await openWampy(url);
    const result = await wampy.call('com.ts.echo', { argsList: [1, 2], argsDict: { a: 'b' } });
    expect(result.argsList).toEqual([{ args: [1, 2], kwargs: { a: 'b' } }]);
    const failure = await wampy.call('com.ts.fail').then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ errorUri: 'com.ts.error.no', argsList: ['why'] });
    const event = signal<unknown>();
    await wampy.subscribe('com.ts.news', (data: { argsList?: unknown[] }) => event.resolve(data.argsList));
    await client.publish('com.ts.news', ['hi'], { acknowledge: true });
    expect(await event.promise).toEqual(['hi']);
  });

  it('our client calls a wampy callee and gets its publications', async () => {
    const { url } = await startRouter();
    const wampy = await openWampy(url);
    await wampy.register('com.wampy.sum', (data) => ({ argsList: [(data.argsList as number[]).reduce((a, b) => a + b, 0)] }));
    const client = await join(url, { serializer });
    expect((await client.call('com.wampy.sum', [1, 2, 3])).args).toEqual([6]);
    const got = signal<SubscriptionEvent>();
    await client.subscribe('com.wampy.news', (e) => got.resolve(e));
    await wampy.publish('com.wampy.news', { argsList: ['w'], argsDict: { k: 1 } });
    expect(await got.promise).toMatchObject({ args: ['w'], kwargs: { k: 1 } });
  });
});
