import { describe, expect, it } from 'vitest';
import { ConnectionError, connectWebSocket, listenWebSocket, Reconnector, type ReconnectStatus, type Transport } from '../src/node.js';
import { cleanups } from './support.js';

function nextOpen(reconnector: Reconnector): Promise<Transport> {
  return new Promise((resolve) => reconnector.once('open', resolve));
}

describe('Reconnector', () => {
  it('reconnects after the connection is lost and reports each status', async () => {
    const listener = await listenWebSocket();
    cleanups.push(() => listener.close());
    const serverSide: Transport[] = [];
    listener.onConnection((transport) => serverSide.push(transport));
    const statuses: ReconnectStatus['state'][] = [];
    const reconnector = new Reconnector((signal) => connectWebSocket(listener.url, { signal }), {
      initialDelayMs: 10,
      maxDelayMs: 20,
    });
    cleanups.push(() => reconnector.stop());
    reconnector.on('status', (status) => statuses.push(status.state));
    const first = nextOpen(reconnector);
    void reconnector.start();
    await first;
    const second = nextOpen(reconnector);
    serverSide[0]?.abort();
    const transport = await second;
    expect(transport.state).toBe('open');
    expect(statuses).toEqual(['connecting', 'open', 'waiting', 'connecting', 'open']);
  });

  it('gives up after maxAttempts failures with the last error', async () => {
    const listener = await listenWebSocket();
    const url = listener.url;
    await listener.close();
    const reconnector = new Reconnector(() => connectWebSocket(url), { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 });
    const statuses: ReconnectStatus[] = [];
    reconnector.on('status', (status) => statuses.push(status));
    await reconnector.start();
    const last = statuses.at(-1);
    expect(last?.state).toBe('failed');
    expect(last?.state === 'failed' ? last.error : undefined).toBeInstanceOf(ConnectionError);
    expect(statuses.filter((status) => status.state === 'connecting')).toHaveLength(3);
  });
});
