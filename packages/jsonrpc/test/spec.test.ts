import { describe, expect, it } from 'vitest';
import { exchange, rawPeer } from './helpers.js';

// The examples of the JSON-RPC 2.0 specification (section 7) and the edge cases it implies.
describe('JSON-RPC 2.0 specification behaviour', () => {
  it('answers positional and named params', async () => {
    const { raw } = rawPeer();
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"add","params":[42,23],"id":1}')).toEqual({
      jsonrpc: '2.0',
      result: 65,
      id: 1,
    });
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"greet","params":{"name":"ann"},"id":"x"}')).toEqual({
      jsonrpc: '2.0',
      result: 'hello ann',
      id: 'x',
    });
  });

  it('replies to "id": null with id null (it is a request, not a notification)', async () => {
    const { raw } = rawPeer();
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":null}')).toEqual({
      jsonrpc: '2.0',
      result: 3,
      id: null,
    });
  });

  it('answers a result of undefined with null', async () => {
    const { raw } = rawPeer();
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"nothing","id":7}')).toEqual({ jsonrpc: '2.0', result: null, id: 7 });
  });

  it('answers an unknown method with -32601', async () => {
    const { raw } = rawPeer();
    const reply = (await exchange(raw, '{"jsonrpc":"2.0","method":"nope","id":"1"}')) as { error: { code: number }; id: string };
    expect(reply.error.code).toBe(-32601);
    expect(reply.id).toBe('1');
  });

  it('answers invalid JSON with -32700 and id null', async () => {
    const { raw } = rawPeer();
    const reply = await exchange(raw, '{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]');
    expect(reply).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
  });

  it('answers {"method": 1} and "params": 5 with -32600', async () => {
    const { raw } = rawPeer();
    const first = (await exchange(raw, '{"jsonrpc":"2.0","method":1,"params":"bar"}')) as Record<string, unknown>;
    expect(first).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
    const second = (await exchange(raw, '{"jsonrpc":"2.0","method":"add","params":5,"id":4}')) as Record<string, unknown>;
    expect(second).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: 4 });
    const third = (await exchange(raw, '{"method":"add","params":[1,2],"id":5}')) as Record<string, unknown>;
    expect(third).toMatchObject({ error: { code: -32600 }, id: 5 });
  });

  it('answers an invalid id with -32600 and id null', async () => {
    const { raw } = rawPeer();
    const reply = await exchange(raw, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":{"a":1}}');
    expect(reply).toMatchObject({ error: { code: -32600 }, id: null });
  });

  it('answers [] with one -32600 error object (not an array)', async () => {
    const { raw } = rawPeer();
    const reply = await exchange(raw, '[]');
    expect(Array.isArray(reply)).toBe(false);
    expect(reply).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
  });

  it('answers [1] with an array of one -32600 error, and [1,2,3] with three', async () => {
    const { raw } = rawPeer();
    const one = (await exchange(raw, '[1]')) as unknown[];
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
    const three = (await exchange(raw, '[1,2,3]')) as unknown[];
    expect(three).toHaveLength(3);
    for (const item of three) expect(item).toMatchObject({ error: { code: -32600 }, id: null });
  });

  it('answers a mixed batch in request order, skipping notifications', async () => {
    const { raw } = rawPeer();
    const reply = (await exchange(
      raw,
      JSON.stringify([
        { jsonrpc: '2.0', method: 'add', params: [1, 2], id: '1' },
        { jsonrpc: '2.0', method: 'echo', params: [7] },
        { jsonrpc: '2.0', method: 'add', params: [42, 23], id: '2' },
        { foo: 'boo' },
        { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
        { jsonrpc: '2.0', method: 'greet', params: { name: 'bob' }, id: '9' },
      ]),
    )) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(reply).toHaveLength(5);
    const byId = new Map(reply.map((item) => [item.id, item]));
    expect(byId.get('1')?.result).toBe(3);
    expect(byId.get('2')?.result).toBe(65);
    expect(byId.get(null)?.error?.code).toBe(-32600);
    expect(byId.get('5')?.error?.code).toBe(-32601);
    expect(byId.get('9')?.result).toBe('hello bob');
  });

  it('sends nothing for a batch of notifications, and stays usable', async () => {
    const { raw } = rawPeer();
    raw.write('[{"jsonrpc":"2.0","method":"echo","params":[1]},{"jsonrpc":"2.0","method":"nope"}]');
    raw.write('{"jsonrpc":"2.0","method":"echo","params":[1]}');
    // The next reply must be the answer to this request: nothing came before it.
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":["after"],"id":2}')).toEqual({
      jsonrpc: '2.0',
      result: 'after',
      id: 2,
    });
  });

  it('keeps the connection usable after every kind of error', async () => {
    const { raw, session } = rawPeer();
    for (const bad of ['nonsense', '[]', '[1]', '{"method":1}', '"str"', 'null', '{}', '[[]]']) {
      const reply = await exchange(raw, bad);
      expect(reply).toBeDefined();
    }
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"add","params":[2,2],"id":1}')).toMatchObject({ result: 4 });
    expect(session.isClosing()).toBe(false);
    expect(session.stats.errors).toBeGreaterThanOrEqual(8);
  });

  it('answers a handler that throws a plain Error with -32603 without leaking its message', async () => {
    const errors: unknown[] = [];
    const { raw } = rawPeer({ onError: (error) => errors.push(error) });
    const reply = await exchange(raw, '{"jsonrpc":"2.0","method":"fail","id":1}');
    expect(reply).toEqual({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: 1 });
    expect(errors).toHaveLength(1);
  });

  it('does not answer replies that match nothing', async () => {
    const { raw } = rawPeer();
    raw.write('{"jsonrpc":"2.0","result":1,"id":99}');
    raw.write('{"jsonrpc":"2.0","error":{"code":1,"message":"x"},"id":null}');
    expect(await exchange(raw, '{"jsonrpc":"2.0","method":"echo","params":[3],"id":1}')).toMatchObject({ result: 3, id: 1 });
  });

  it('does not resolve methods from the handler object prototype', async () => {
    const { raw } = rawPeer();
    for (const method of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const reply = await exchange(raw, JSON.stringify({ jsonrpc: '2.0', method, id: 1 }));
      expect(reply).toMatchObject({ error: { code: -32601 } });
    }
  });
});
