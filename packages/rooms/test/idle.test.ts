import { useTeardown } from '@rt/test-harness';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { WebsocketProvider as Provider } from 'y-websocket';
import type { BindOptions } from '../src/server.js';

// lib0 reads the clock through a `Date.now` captured when it loads, so the clocks are
// faked before anything that imports lib0 is loaded. Only intervals and Date are fake:
// sockets and timeouts stay real.
vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
const { WebSocket } = await import('ws');
const { WebsocketProvider } = await import('y-websocket');
const Y = await import('yjs');
const { connect } = await import('../src/client.js');
const { bind } = await import('../src/server.js');
const { websocket } = await import('../src/websocket-listen.js');

async function idleMinute(options: BindOptions): Promise<{ statuses: string[]; sameSocket: boolean; clients: number }> {
  const wire = websocket({ port: 0 });
  const server = await bind(wire, options);
  useTeardown(() => server.close());
  const doc = new Y.Doc();
  const theirs: Provider = new WebsocketProvider(`ws://127.0.0.1:${server.port}`, 'idle', doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  useTeardown(() => theirs.destroy());
  // No presence on either side: nothing but the server's keepalive breaks the silence.
  theirs.awareness.setLocalState(null);
  const probe = await connect(wire, { id: 'idle', idleTimeoutMs: 0 });
  useTeardown(() => probe.close());
  probe.awareness.setLocalState(null);
  await probe.synced;
  if (!theirs.synced) {
    await new Promise<void>((resolve) => theirs.once('sync', () => resolve()));
  }
  const socket = theirs.ws;
  const statuses: string[] = [];
  theirs.on('status', ({ status }: { status: string }) => statuses.push(status));
  for (let second = 0; second < 70; second++) {
    vi.advanceTimersByTime(1_000);
    // A round trip through the server lets every frame it wrote meanwhile be delivered.
    await probe.flush();
  }
  return { statuses, sameSocket: theirs.ws === socket, clients: server.rooms.get('idle')?.clients.size ?? 0 };
}

afterAll(() => {
  vi.useRealTimers();
});

describe('an idle y-websocket 3.1.0 client (clock driven past its 30 s silence limit)', () => {
  it('stays connected over an idle minute thanks to the server keepalive', async () => {
    const result = await idleMinute({});
    expect(result).toEqual({ statuses: [], sameSocket: true, clients: 2 });
  });

  it('would be dropped by the client without the keepalive (the test can fail)', async () => {
    const result = await idleMinute({ roomOptions: { keepaliveMs: 0 } });
    expect(result.statuses).toContain('disconnected');
    expect(result.sameSocket).toBe(false);
  });
});
