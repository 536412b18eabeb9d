import { CLOSE_ABNORMAL, ConnectionError, connectTcp, connectWebSocket, listenTcp, listenWebSocket, type Listener } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { FaultProxy, withTeardown } from '../src/index.js';

function echo(listener: Listener): void {
  listener.onConnection((transport) => {
    void (async () => {
      for await (const message of transport) await transport.send(message);
    })();
  });
}

describe('FaultProxy with @rt/transport clients', () => {
  it('a cut surfaces promptly on a WebSocket transport as a 1006 close and a ConnectionError', async () => {
    const listener = await withTeardown(listenWebSocket({ port: 0 }), (l) => l.close());
    echo(listener);
    const proxy = await withTeardown(FaultProxy.start({ target: listener.address }), (p) => p.close());
    const client = await withTeardown(connectWebSocket(proxy.url('ws')), (t) => t.abort());
    await client.send('hello');
    expect(await client.receive({ timeoutMs: 5000 })).toBe('hello');

    proxy.cutAll();
    const info = await client.closed;
    expect(info.code).toBe(CLOSE_ABNORMAL);
    expect(info.wasClean).toBe(false);
    expect(await client.receive()).toBeUndefined();
    expect(() => client.write('after the cut')).toThrow(ConnectionError);
  });

  it('a cut surfaces promptly on a TCP transport, and a reconnect through the proxy works', async () => {
    const listener = await withTeardown(listenTcp({ port: 0 }), (l) => l.close());
    echo(listener);
    const proxy = await withTeardown(FaultProxy.start({ target: listener.address }), (p) => p.close());
    const client = await withTeardown(connectTcp(proxy.address), (t) => t.abort());
    await client.send('line one');
    expect(await client.receive({ timeoutMs: 5000 })).toBe('line one');

    proxy.cutAll();
    const info = await client.closed;
    expect(info.wasClean).toBe(false);
    await expect(client.send('lost')).rejects.toBeInstanceOf(ConnectionError);

    const again = await withTeardown(connectTcp(proxy.address), (t) => t.abort());
    await again.send('line two');
    expect(await again.receive({ timeoutMs: 5000 })).toBe('line two');
    expect(proxy.acceptedCount).toBe(2);
  });

  it('a stalled server answer makes a receive with a timeout fail, and resume delivers it', async () => {
    const listener = await withTeardown(listenWebSocket({ port: 0 }), (l) => l.close());
    echo(listener);
    const proxy = await withTeardown(FaultProxy.start({ target: listener.address }), (p) => p.close());
    const client = await withTeardown(connectWebSocket(proxy.url('ws')), (t) => t.abort());
    proxy.stall();
    client.write('held');
    await proxy.waitUntil((p) => p.pendingBytes > 0);
    await expect(client.receive({ timeoutMs: 50 })).rejects.toThrow(/timed out/);
    proxy.resume();
    expect(await client.receive({ timeoutMs: 5000 })).toBe('held');
  });
});
