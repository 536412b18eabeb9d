import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transport } from '@rt/transport';
import { ClientSession } from '../src/client-session.js';
import { ServerSession } from '../src/server-session.js';
import { rawPeer, sessionPair, testHandlers } from './helpers.js';
import { MessageKind } from '../src/messages.js';
import type { Protocol } from '../src/protocol.js';
import { JSONRPCLoose } from '../src/protocol-loose.js';
import { JSONRPCv1 } from '../src/protocol-v1.js';
import { JSONRPCv2 } from '../src/protocol-v2.js';

const protocols: Protocol[] = [JSONRPCv2, JSONRPCv1, JSONRPCLoose];

/**
 * Read replies until the one with `id`, checking that every reply on the way is spec-valid
 * (replies to earlier inputs may arrive later: the specification allows any order).
 */
async function replyTo(raw: Transport, id: string): Promise<unknown> {
  for (;;) {
    const reply = await raw.receive({ timeoutMs: 5000 });
    expect(reply).toBeDefined();
    const parsed = JSON.parse(String(reply)) as unknown;
    const items = Array.isArray(parsed) ? parsed : [parsed];
    if (Array.isArray(parsed)) expect(parsed.length).toBeGreaterThan(0);
    for (const item of items) expect(isSpecReply(item)).toBe(true);
    if (!Array.isArray(parsed) && (parsed as { id: unknown }).id === id) return parsed;
  }
}

/** A reply object as the JSON-RPC 2.0 specification defines it. */
function isSpecReply(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const reply = value as Record<string, unknown>;
  if (reply['jsonrpc'] !== '2.0' || !('id' in reply)) return false;
  const id = reply['id'];
  if (!(id === null || typeof id === 'string' || typeof id === 'number')) return false;
  if ('result' in reply === 'error' in reply) return false;
  if ('error' in reply) {
    const error = reply['error'] as Record<string, unknown>;
    return Number.isInteger(error['code']) && typeof error['message'] === 'string';
  }
  return true;
}

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const almostRequest = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), jsonValue),
    method: fc.oneof(fc.constantFrom('echo', 'add', 'greet', 'nothing', 'missing'), jsonValue),
    params: fc.oneof(fc.array(jsonValue, { maxLength: 3 }), fc.dictionary(fc.string(), jsonValue), jsonValue),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), jsonValue),
    result: jsonValue,
    error: jsonValue,
  },
  { requiredKeys: [] },
);

describe('decoders never throw', () => {
  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        for (const protocol of protocols) protocol.decode(text);
      }),
    );
  });

  it('on arbitrary JSON values and near-miss messages', () => {
    fc.assert(
      fc.property(fc.oneof(jsonValue, almostRequest, fc.array(almostRequest, { maxLength: 5 })), (value) => {
        for (const protocol of protocols) {
          const decoded = protocol.decodePayload(value);
          const messages = decoded.batch ? decoded.messages : [decoded.message];
          for (const message of messages) expect(Object.values(MessageKind)).toContain(message.kind);
        }
      }),
    );
  });

  it('on deep nesting', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
        const close = open === '[' ? ']' : '}';
        const text = open.repeat(depth) + '1' + close.repeat(depth);
        for (const protocol of protocols) protocol.decode(text);
      }),
      { numRuns: 30 },
    );
  });
});

describe('encode/decode pairs', () => {
  it('round-trip every valid call and reply (JSON-RPC 2.0)', () => {
    const id = fc.oneof(fc.integer(), fc.string(), fc.constant(null));
    const params = fc.option(fc.oneof(fc.array(jsonValue), fc.dictionary(fc.string(), jsonValue)), { nil: undefined });
    fc.assert(
      fc.property(id, fc.string(), params, jsonValue, (requestId, method, callParams, result) => {
        expect(JSONRPCv2.decodeMessage(JSON.parse(JSONRPCv2.encodeRequest(requestId, method, callParams)))).toEqual({
          kind: MessageKind.Request,
          id: requestId,
          method,
          params: callParams === undefined ? undefined : JSON.parse(JSON.stringify(callParams)),
        });
        expect(JSONRPCv2.decodeMessage(JSON.parse(JSONRPCv2.encodeResult(requestId, result)))).toEqual({
          kind: MessageKind.Result,
          id: requestId,
          result: JSON.parse(JSON.stringify(result)),
        });
      }),
    );
  });
});

describe('a server session answers anything with spec-valid replies', () => {
  it('for random messages and batches, and stays usable', async () => {
    // Throttling is tested on its own; here the peer may misbehave without limit.
    const { raw } = rawPeer({ cost: { hardLimit: 0 } });
    const input = fc.oneof(
      fc.string(),
      jsonValue.map((value) => JSON.stringify(value)),
      almostRequest.map((value) => JSON.stringify(value)),
      fc.array(fc.oneof(almostRequest, jsonValue), { minLength: 0, maxLength: 8 }).map((value) => JSON.stringify(value)),
    );
    let probe = 0;
    await fc.assert(
      fc.asyncProperty(input, async (text) => {
        raw.write(text);
        probe += 1;
        // A probe request after each input: every reply before its answer must be spec-valid.
        raw.write(JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: [probe], id: `probe-${probe}` }));
        expect(await replyTo(raw, `probe-${probe}`)).toMatchObject({ result: probe });
      }),
      { numRuns: 200 },
    );
    raw.write('{"jsonrpc":"2.0","method":"add","params":[1,1],"id":"last"}');
    expect(await replyTo(raw, 'last')).toMatchObject({ result: 2 });
  });
});

describe('random batches between two sessions', () => {
  it('resolve one result per request, in request order, whatever the mix', async () => {
    const notes: unknown[] = [];
    const server = new ServerSession({
      handlers: { ...testHandlers, note: (value: unknown) => void notes.push(value) },
      cost: { hardLimit: 0 },
    });
    const { client } = sessionPair(server, new ClientSession('tcp://127.0.0.1:1'));
    const call = fc.oneof(
      fc.record({ kind: fc.constant('echo' as const), value: jsonValue }),
      fc.record({ kind: fc.constant('missing' as const) }),
      fc.record({ kind: fc.constant('note' as const), value: fc.integer() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 20 }), async (calls) => {
        notes.length = 0;
        const results = await client.sendBatch((batch) => {
          for (const item of calls) {
            if (item.kind === 'echo') batch.addRequest('echo', [item.value]);
            else if (item.kind === 'missing') batch.addRequest('missing');
            else batch.addNotification('note', [item.value]);
          }
        });
        const requests = calls.filter((item) => item.kind !== 'note');
        expect(results).toHaveLength(requests.length);
        requests.forEach((item, index) => {
          if (item.kind === 'echo') expect(results[index]).toEqual(JSON.parse(JSON.stringify(item.value)));
          else expect(results[index]).toMatchObject({ code: -32601 });
        });
        // The server handles messages in order: once this is answered, every note has been seen.
        await client.sendRequest('echo', ['flush']);
        expect(notes).toEqual(calls.flatMap((item) => (item.kind === 'note' ? [item.value] : [])));
      }),
      { numRuns: 100 },
    );
  });
});
