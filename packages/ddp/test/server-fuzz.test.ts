import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawPeer, testServer, type RawPeer } from './helpers.js';

const SERVER_MESSAGES = new Set(['error', 'result', 'updated', 'nosub', 'ready', 'added', 'changed', 'removed', 'pong', 'ping']);

/** JSON objects whose keys shadow what naive code calls (`String(x)`, `x + ''`, prototype lookups). */
const hostile = fc.constantFrom(
  { toString: '' },
  { valueOf: 1, toString: 2 },
  JSON.parse('{"__proto__":{"msg":"ping"}}') as unknown,
  { constructor: { prototype: { polluted: true } } },
);
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostile, fc.constant(undefined));
const messageLike = fc.record(
  {
    msg: fc.oneof(fc.constantFrom('connect', 'ping', 'pong', 'sub', 'unsub', 'method', 'added', 'result', 'nosuch'), fc.jsonValue({ maxDepth: 1 }), hostile),
    id: anyValue,
    name: anyValue,
    method: anyValue,
    params: anyValue,
    version: anyValue,
    support: anyValue,
    randomSeed: anyValue,
  },
  { requiredKeys: ['msg'] },
);
const input = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.json({ maxDepth: 3 }),
  messageLike.map((message) => JSON.stringify(message)),
  fc.uint8Array({ maxLength: 16 }),
);

/** Send `payload`, then a ping; collect every reply up to the matching pong. */
async function exchange(peer: RawPeer, payload: string | Uint8Array, probe: string): Promise<Record<string, unknown>[]> {
  peer.transport.write(payload);
  peer.send({ msg: 'ping', id: probe });
  const replies: Record<string, unknown>[] = [];
  for (;;) {
    const message = await peer.next();
    if (message['msg'] === 'pong' && message['id'] === probe) return replies;
    replies.push(message);
  }
}

describe('DDPServer under malformed input', () => {
  it('answers garbage with DDP errors and keeps serving', async () => {
    const { server, errors } = testServer();
    server.methods({ add: (a: number, b: number) => a + b });
    const peer = rawPeer(server);
    await peer.handshake();
    let round = 0;
    await fc.assert(
      fc.asyncProperty(input, async (payload) => {
        round += 1;
        const replies = await exchange(peer, payload, `probe-${round}`);
        for (const reply of replies) {
          expect(SERVER_MESSAGES.has(String(reply['msg'])), JSON.stringify(reply)).toBe(true);
          if (reply['msg'] === 'error') expect(typeof reply['reason']).toBe('string');
        }
        let parsed: unknown;
        try {
          parsed = typeof payload === 'string' ? JSON.parse(payload) : undefined;
        } catch {
          parsed = undefined;
        }
        const error = replies.find((reply) => reply['msg'] === 'error');
        const context = JSON.stringify({ payload: typeof payload === 'string' ? payload : [...payload], replies });
        if (error && parsed !== undefined) expect(error, context).toHaveProperty('offendingMessage');
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          expect(error, `no error for ${String(payload)}`).toBeDefined();
        }
      }),
      { numRuns: Number(process.env['DDP_FUZZ_RUNS'] ?? 300) },
    );
    expect(errors).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['msg']).toBeUndefined();
    peer.send({ msg: 'method', id: 'after', method: 'add', params: [2, 2] });
    expect(await peer.expect('result')).toEqual({ msg: 'result', id: 'after', result: 4 });
    const other = rawPeer(server);
    await other.handshake();
    other.send({ msg: 'method', id: 'x', method: 'add', params: [1, 1] });
    expect(await other.expect('result')).toEqual({ msg: 'result', id: 'x', result: 2 });
  });

  it('names the problem and echoes the offending message', async () => {
    const { server } = testServer();
    const peer = rawPeer(server);
    await peer.handshake();
    const cases: [unknown, string][] = [
      [{ msg: 'sub', id: 1, name: 'x' }, "'id' must be a string"],
      [{ msg: 'method', id: 'm', method: 'x', params: 'nope' }, "'params' must be an array"],
      [{ msg: 'method', id: 'm', method: 'x', params: [{ $date: 'bad' }] }, 'Malformed EJSON'],
      [{ msg: 'unknown' }, "unknown message type 'unknown'"],
      [{ msg: { toString: '' } }, 'unknown message type \'{"toString":""}\''],
      [{ msg: 'sub', id: 's', name: { valueOf: 1 } }, "'name' must be a string"],
      [{ nomsg: true }, "no 'msg' field"],
      [[1, 2], 'a DDP message is a JSON object'],
    ];
    for (const [message, reason] of cases) {
      peer.send(JSON.stringify(message));
      const reply = await peer.expect('error');
      expect(reply['reason']).toContain(reason);
      expect(reply['offendingMessage']).toEqual(message);
    }
    peer.send('{not json');
    expect(await peer.expect('error')).toEqual({ msg: 'error', reason: 'Parse error: not JSON' });
  });

  it('closes a connection that sends an oversized message or floods the queue', async () => {
    const { server } = testServer({ limits: { maxMessageBytes: 1000, maxQueuedMessages: 5 } });
    server.methods({
      async slow() {
        await new Promise(() => undefined);
      },
    });
    const big = rawPeer(server);
    await big.handshake();
    big.send({ msg: 'method', id: '1', method: 'x', params: ['y'.repeat(2000)] });
    expect((await big.expect('error'))['reason']).toMatch(/Message too large/);
    expect((await big.transport.closed).code).toBe(1009);

    const flood = rawPeer(server);
    await flood.handshake();
    for (let index = 0; index < 10; index += 1) flood.send({ msg: 'method', id: String(index), method: 'slow' });
    expect((await flood.expect('error'))['reason']).toMatch(/Too many queued messages/);
    expect((await flood.transport.closed).code).toBe(1008);
  });
});
