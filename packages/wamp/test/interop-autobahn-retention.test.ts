import { fileURLToPath } from 'node:url';
import { hasPython3Module, peerAvailable, startPythonPeer, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import type { SubscriptionEvent } from '../src/index.js';
import { join, signal, startRouter } from './helpers.js';

const script = fileURLToPath(new URL('./peers/autobahn_retention.py', import.meta.url));
const available = await peerAvailable('python3-autobahn', hasPython3Module('autobahn.asyncio.wamp'));

/** Run the peer in `mode` to its end and parse its RESULT line. */
async function runPeer(url: string, mode: 'publisher' | 'subscriber', serializer: string): Promise<Record<string, unknown>> {
  const peer = await startPythonPeer({ script, args: [url, 'realm1', mode, serializer], readyPattern: /RESULT (.*)/, timeoutMs: 20_000 });
  useTeardown(() => peer.stop());
  const [, json] = await peer.waitForLine(/RESULT (.*)/);
  const result = JSON.parse(json as string) as Record<string, unknown>;
  expect(result['exception']).toBeUndefined();
  return result;
}

describe.skipIf(!available).each(['json', 'msgpack'] as const)('Autobahn|Python event retention against our router (%s)', (serializer) => {
  it('keeps an Autobahn retained publication for our later subscriber', async () => {
    const { url } = await startRouter();
    const result = await runPeer(url, 'publisher', serializer);
    const client = await join(url, { serializer });
    const got = signal<SubscriptionEvent>();
    await client.subscribe('com.py.retained', (event) => got.resolve(event), { getRetained: true });
    expect(await got.promise).toMatchObject({
      args: ['from-python', 2], kwargs: { n: 1 }, retained: true, publicationId: result['publication'],
    });
  });

  it('hands our retained publication to a later Autobahn prefix subscriber with details.retained', async () => {
    const { url } = await startRouter();
    const client = await join(url, { serializer });
    await client.publish('com.ts.retained', ['from-ts'], { kwargs: { k: 'v' }, retain: true, acknowledge: true });
    const result = await runPeer(url, 'subscriber', serializer);
    expect(result['event']).toEqual({ args: ['from-ts'], kwargs: { k: 'v' }, retained: true, topic: 'com.ts.retained' });
  });
});
