import { createMemoryPair } from '@rt/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DDPClient } from '../src/index.js';
import { onCleanup, RawPeer } from './helpers.js';

const hostile = fc.constantFrom({ toString: '' }, { valueOf: 1 }, JSON.parse('{"__proto__":{"x":1}}') as unknown, null, [], 'x');
const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostile);
const serverish = fc.record(
  {
    msg: fc.oneof(
      fc.constantFrom('added', 'changed', 'removed', 'ready', 'nosub', 'result', 'updated', 'ping', 'error', 'connected', 'failed', 'addedBefore', 'movedBefore'),
      value,
    ),
    collection: fc.oneof(fc.constantFrom('items', '__proto__', 'constructor'), value),
    id: fc.oneof(fc.constantFrom('a', 'b', '__proto__'), value),
    fields: fc.oneof(fc.dictionary(fc.constantFrom('x', '__proto__', 'constructor', '$date'), value, { maxKeys: 3 }), value),
    cleared: value,
    subs: value,
    methods: value,
    result: value,
    error: value,
    before: value,
  },
  { requiredKeys: ['msg'] },
);
const payload = fc.oneof(serverish.map((message) => JSON.stringify(message)), fc.string({ maxLength: 30 }), fc.json({ maxDepth: 2 }));

describe('DDPClient under malformed server input', () => {
  it('reports what it cannot use and keeps serving calls', async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const peer = new RawPeer(serverEnd);
    const client = new DDPClient('ws://fuzz/websocket', { reconnect: false, transport: async () => clientEnd });
    onCleanup(() => client.disconnect());
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const connecting = client.connect();
    await peer.expect('connect');
    peer.send({ msg: 'connected', session: 'S' });
    await connecting;
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 5 }), async (payloads) => {
        for (const text of payloads) peer.send(text);
        const call = client.call('probe');
        const method = await peer.expect('method');
        peer.send({ msg: 'result', id: method['id'], result: 'still here' });
        peer.send({ msg: 'updated', methods: [method['id']] });
        expect(await call).toBe('still here');
        expect(client.isConnected).toBe(true);
      }),
      { numRuns: Number(process.env['DDP_FUZZ_RUNS'] ?? 150) },
    );
    for (const document of client.getCollection('items').values()) expect(Object.isFrozen(document)).toBe(true);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((error) => error instanceof Error)).toBe(true);
  });
});
