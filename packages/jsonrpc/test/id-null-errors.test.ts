import { createMemoryPair, type Transport } from '@rt/transport';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession, type ClientSessionOptions } from '../src/client-session.js';
import type { RequestId } from '../src/messages.js';
import { BatchError, RPCError } from '../src/rpc-error.js';

/** A client session whose peer is a raw transport the test speaks for. */
class Client extends ClientSession {
  readonly unmatched: { id: RequestId; error: RPCError | undefined }[] = [];

  protected override unmatchedResponse(id: RequestId, error: RPCError | undefined): void {
    this.unmatched.push({ id, error });
  }
}

function rawServer(options: ClientSessionOptions = {}): { client: Client; raw: Transport } {
  const [a, b] = createMemoryPair();
  // A short timeout: a call the fix fails to settle rejects with TimeoutError instead.
  const client = new Client('tcp://127.0.0.1:1', { requestTimeoutMs: 1500, ...options });
  client.attach(a);
  onTestFinished(() => {
    b.abort();
  });
  return { client, raw: b };
}

async function next(raw: Transport): Promise<unknown> {
  const message = await raw.receive({ timeoutMs: 5000 });
  if (message === undefined) throw new Error('the client closed');
  return JSON.parse(typeof message === 'string' ? message : new TextDecoder().decode(message)) as unknown;
}

const refusal = (code: number, message: string): string =>
  JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message, data: 'why' } });

describe('error replies with id null', () => {
  it('reject a whole batch the peer refuses with one id-null error, with or without raiseErrors', async () => {
    const { client, raw } = rawServer();
    for (const raiseErrors of [false, true]) {
      const reply = client.sendBatch((batch) => batch.addRequest('a').addNotification('n').addRequest('b'), { raiseErrors });
      const sent = await next(raw);
      expect(sent).toHaveLength(3);
      raw.write(refusal(-32600, 'Invalid Request'));
      const error = await reply.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RPCError);
      expect(error).not.toBeInstanceOf(BatchError);
      expect(error).toMatchObject({ code: -32600, message: 'Invalid Request', data: 'why' });
    }
    expect(client.pendingRequestCount).toBe(0);
    expect(client.unmatched).toEqual([]);
    // The session stays usable.
    const answer = client.sendRequest('echo', [1]);
    const request = (await next(raw)) as { id: number };
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: 'ok' }));
    expect(await answer).toBe('ok');
  });

  it('reject the only pending request with an id-null error', async () => {
    const { client, raw } = rawServer();
    const reply = client.sendRequest('x');
    await next(raw);
    raw.write(refusal(-32700, 'Parse error'));
    await expect(reply).rejects.toMatchObject({ code: -32700, message: 'Parse error' });
    expect(client.unmatched).toEqual([]);
  });

  it('leave calls alone when an id-null error could answer more than one of them', async () => {
    const { client, raw } = rawServer({ requestTimeoutMs: 30_000 });
    const first = client.sendRequest('one');
    const second = client.sendBatch((batch) => batch.addRequest('two'));
    const ids = [((await next(raw)) as { id: number }).id, ((await next(raw)) as { id: number }[])[0]?.id];
    raw.write(refusal(-32600, 'Invalid Request'));
    await expect.poll(() => client.unmatched.length).toBe(1);
    expect(client.unmatched[0]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(client.pendingRequestCount).toBe(2);
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: ids[0], result: 1 }));
    raw.write(JSON.stringify([{ jsonrpc: '2.0', id: ids[1], result: 2 }]));
    expect(await first).toBe(1);
    expect(await second).toEqual([2]);
  });

  it('leave a request alone when a notification was sent after it', async () => {
    const { client, raw } = rawServer({ requestTimeoutMs: 30_000 });
    const reply = client.sendRequest('slow');
    const { id } = (await next(raw)) as { id: number };
    client.sendNotification('note');
    await next(raw);
    raw.write(refusal(-32600, 'Invalid Request'));
    await expect.poll(() => client.unmatched.length).toBe(1);
    raw.write(JSON.stringify({ jsonrpc: '2.0', id, result: 'late' }));
    expect(await reply).toBe('late');
  });

  it('pair id-null errors inside a reply array with the batch requests left unanswered', async () => {
    const { client, raw } = rawServer();
    const reply = client.sendBatch((batch) => batch.addRequest('good').addRequest('unreadable').addRequest('also'));
    const sent = (await next(raw)) as { id: number }[];
    raw.write(
      JSON.stringify([
        { jsonrpc: '2.0', id: sent[0]?.id, result: 'fine' },
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'first bad' } },
        { jsonrpc: '2.0', id: null, error: { code: -32602, message: 'second bad' } },
      ]),
    );
    const results = await reply;
    expect(results[0]).toBe('fine');
    expect(results[1]).toMatchObject({ code: -32600, message: 'first bad' });
    expect(results[2]).toMatchObject({ code: -32602, message: 'second bad' });
    expect(client.unmatched).toEqual([]);
  });

  it('settle a batch answered only by id-null errors, one per request, as per-request errors', async () => {
    const { client, raw } = rawServer();
    const reply = client.sendBatch((batch) => batch.addRequest('a').addRequest('b'));
    await next(raw);
    const error = { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } };
    raw.write(JSON.stringify([error, error]));
    const results = await reply;
    expect(results).toHaveLength(2);
    for (const result of results) expect(result).toMatchObject({ code: -32600 });
    await expect(
      (async () => {
        const again = client.sendBatch((batch) => batch.addRequest('a'), { raiseErrors: true });
        await next(raw);
        raw.write(JSON.stringify([error]));
        return again;
      })(),
    ).rejects.toBeInstanceOf(BatchError);
  });
});
