import { fileURLToPath } from 'node:url';
import { hasPython3Module, peerAvailable, startPythonPeer, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { ApplicationError, Result, type SubscriptionEvent } from '../src/index.js';
import { Router } from '../src/router/index.js';
import { join, signal } from './helpers.js';

const script = fileURLToPath(new URL('./peers/autobahn_peer.py', import.meta.url));
const available = await peerAvailable('python3-autobahn', hasPython3Module('autobahn.asyncio.wamp'));
// Autobahn|Python speaks CBOR through cbor2, a separate Debian package.
const cborAvailable = available && (await peerAvailable('python3-cbor2', hasPython3Module('cbor2')));
const serializers = cborAvailable ? (['json', 'msgpack', 'cbor'] as const) : (['json', 'msgpack'] as const);
type PeerTransport = 'WebSocket' | 'RawSocket';
const cases: [PeerTransport, (typeof serializers)[number]][] = [
  ...serializers.map((serializer) => ['WebSocket', serializer] as [PeerTransport, (typeof serializers)[number]]),
  ['RawSocket', 'json'],
  ['RawSocket', 'msgpack'],
];

/** A router on loopback; the Python peer joins over `transport`, our client over WebSocket. */
async function routerFor(transport: PeerTransport): Promise<{ url: string; peerUrl: string }> {
  const router = new Router({ realms: ['realm1'] });
  const address = await router.listen({ host: '127.0.0.1', port: 0, rawSocketPort: 0 });
  useTeardown(() => router.close());
  return { url: address.url, peerUrl: transport === 'RawSocket' ? (address.rawSocketUrl as string) : address.url };
}

describe.skipIf(!available).each(cases)('Autobahn|Python against our router (%s, %s)', (transport, serializer) => {
  it('serves an Autobahn callee: calls, progressive results, errors, pub/sub', async () => {
    const { url, peerUrl } = await routerFor(transport);
    const peer = await startPythonPeer({ script, args: [peerUrl, 'realm1', 'callee', serializer], readyPattern: /READY (\d+)/, timeoutMs: 20_000 });
    useTeardown(() => peer.stop());
    const client = await join(url, { serializer });
    expect((await client.call('com.py.add', [2, 40])).args).toEqual([42]);
    const call = client.call('com.py.count', [3], { receiveProgress: true });
    const progress: unknown[] = [];
    for await (const p of call) progress.push(p.args[0]);
    expect(progress).toEqual([1, 2, 3]);
    expect((await call).args).toEqual(['counted 3']);
    const error = await client.call('com.py.fail', ['because']).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationError);
    expect(error).toMatchObject({ uri: 'com.py.error.failed', args: ['because'], kwargs: { code: 7 } });
    const echoed = signal<SubscriptionEvent>();
    await client.subscribe('com.py.echo', (event) => echoed.resolve(event));
    await client.publish('com.py.topic', ['hello', 5], { kwargs: { k: 'v' }, acknowledge: true });
    expect(await echoed.promise).toMatchObject({ args: ['hello', 5], kwargs: { k: 'v' } });
  });

  it('serves an Autobahn caller: calls, progress, errors, publisher exclusion, goodbye', async () => {
    const { url, peerUrl } = await routerFor(transport);
    const client = await join(url, { serializer });
    await client.register('com.ts.mul', ({ args }) => (args[0] as number) * (args[1] as number));
    await client.register('com.ts.count', async function* ({ args }) {
      for (let i = 1; i <= (args[0] as number); i++) yield i;
      return 'finished';
    });
    await client.register('com.ts.fail', () => {
      throw new ApplicationError('com.ts.error.nope', { args: ['no way'], kwargs: { why: 'test' } });
    });
    await client.register('com.ts.kw', ({ kwargs }) => new Result(['kw'], { got: kwargs['x'] }));
    const peer = await startPythonPeer({ script, args: [peerUrl, 'realm1', 'caller', serializer], readyPattern: /RESULT (.*)/, timeoutMs: 20_000 });
    useTeardown(() => peer.stop());
    const [, json] = await peer.waitForLine(/RESULT (.*)/);
    const result = JSON.parse(json as string) as Record<string, unknown>;
    expect(result['exception']).toBeUndefined();
    expect(result).toMatchObject({
      mul: 42,
      progress: [1, 2, 3],
      final: 'finished',
      error: ['com.ts.error.nope', ['no way'], { why: 'test' }],
      kw: [['kw'], { got: 1 }],
      own: ['included'],
      leave: 'wamp.close.goodbye_and_out',
    });
  });
});
