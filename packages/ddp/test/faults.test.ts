import { FaultProxy, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { DDPClient, ejson, InvocationFailedError, type CollectionEvent } from '../src/index.js';
import { DDPServer } from '../src/server/index.js';
import { nextEvent, Table } from './helpers.js';

async function proxiedServer(setup: (server: DDPServer) => void): Promise<{ proxy: FaultProxy; client: DDPClient }> {
  const server = new DDPServer({ onError: () => undefined });
  setup(server);
  const address = await server.listen({ port: 0 });
  const proxy = await FaultProxy.start({ target: address });
  const client = new DDPClient(proxy.url('ws', '/websocket'), { reconnect: { minDelayMs: 5, baseDelayMs: 10, maxDelayMs: 50 } });
  useTeardown(async () => {
    await client.disconnect();
    await proxy.close();
    await server.close();
  });
  return { proxy, client };
}

/** The events that turn `before` into `after`, one per document that differs. */
function expectedEvents(before: Map<string, Record<string, unknown>>, after: Map<string, Record<string, unknown>>): Map<string, string> {
  const expected = new Map<string, string>();
  for (const id of before.keys()) if (!after.has(id)) expected.set(id, 'removed');
  for (const [id, doc] of after) {
    const previous = before.get(id);
    if (!previous) expected.set(id, 'added');
    else if (!ejson.equals(previous, doc)) expected.set(id, 'changed');
  }
  return expected;
}

describe('faults through FaultProxy', () => {
  it('restores a large subscription cut mid-stream exactly, with events only for real differences', async () => {
    const table = new Table();
    for (let index = 0; index < 4000; index += 1) table.insert(`d${index}`, { index, label: `doc ${index}`, at: new Date(index) });
    const { proxy, client } = await proxiedServer((server) => {
      server.publish('docs', function () {
        table.publishTo(this, 'docs');
      });
    });
    await client.connect();
    const docs = client.getCollection('docs');
    let snapshot: Map<string, Record<string, unknown>> | undefined;
    let cut = false;
    const afterCut: CollectionEvent[] = [];
    // What the client holds once the lost connection's last message is processed: every
    // event after this must be a real difference from it.
    client.once('disconnected', () => {
      snapshot = new Map([...docs].map(([id, doc]) => [id, { ...doc }]));
    });
    docs.onChange((event) => {
      if (snapshot) afterCut.push(event);
      if (cut || docs.size !== 1500) return;
      cut = true;
      proxy.cutAll();
      // The server's data moves on while the client is away.
      table.update('d10', { label: 'changed while away' });
      table.update('d11', { at: undefined });
      table.remove('d12');
      table.remove('d3999');
      table.insert('fresh', { index: -1 });
    });
    const subscription = client.subscribe('docs');
    await nextEvent(client, 'disconnected');
    await subscription.wait();
    await expect.poll(() => docs.size, { timeout: 10_000 }).toBe(table.rows.size);

    const serverView = new Map([...table.rows].map(([id, row]) => [id, { _id: id, ...row }]));
    const clientView = new Map([...docs].map(([id, doc]) => [id, { ...doc }]));
    expect(ejson.equals(Object.fromEntries(clientView), Object.fromEntries(serverView))).toBe(true);

    const expected = expectedEvents(snapshot as Map<string, Record<string, unknown>>, serverView);
    const seen = new Map<string, string>();
    for (const event of afterCut) {
      expect(seen.has(event._id), `second event for ${event._id}`).toBe(false);
      seen.set(event._id, event.type);
    }
    expect(seen).toEqual(expected);
    expect(seen.get('d10')).toBe('changed');
    expect(seen.get('d12')).toBe('removed');
    expect(seen.get('fresh')).toBe('added');
    expect(seen.has('d0')).toBe(false);
  });

  it('settles every call across a cut; noRetry calls run at most once', async () => {
    const runs = new Map<string, number>();
    let cutAfter: (() => void) | undefined;
    const { proxy, client } = await proxiedServer((server) => {
      server.methods({
        async record(token: string) {
          this.unblock();
          runs.set(token, (runs.get(token) ?? 0) + 1);
          if (runs.size === 60) cutAfter?.();
          await new Promise((resolve) => setTimeout(resolve, 1));
          return token;
        },
      });
    });
    await client.connect();
    cutAfter = () => proxy.cutAll();
    const calls = Array.from({ length: 200 }, (_, index) => {
      const token = `t${index}`;
      const noRetry = index % 2 === 0;
      return { token, noRetry, promise: client.apply('record', [token], { noRetry }) };
    });
    const outcomes = await Promise.allSettled(calls.map((call) => call.promise));
    let failedNoRetry = 0;
    calls.forEach((call, index) => {
      const outcome = outcomes[index] as PromiseSettledResult<unknown>;
      if (outcome.status === 'fulfilled') {
        expect(outcome.value).toBe(call.token);
      } else {
        expect(call.noRetry, `${call.token} failed: ${String(outcome.reason)}`).toBe(true);
        expect(outcome.reason).toBeInstanceOf(InvocationFailedError);
        failedNoRetry += 1;
      }
      if (call.noRetry) expect(runs.get(call.token) ?? 0).toBeLessThanOrEqual(1);
      else expect(runs.get(call.token)).toBeGreaterThanOrEqual(1);
    });
    expect(failedNoRetry).toBeGreaterThan(0);
    expect(client.isConnected).toBe(true);
  });
});
