import { connectWebSocket } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { connect, type RoomClient } from '../src/client.js';
import type { ConnectOptions } from '../src/client-options.js';
import { CLOSE_PERMISSION_DENIED } from '../src/close-codes.js';
import { PermissionDeniedError } from '../src/errors.js';
import { bind, type BindOptions, type RoomServer } from '../src/server.js';
import { websocket } from '../src/websocket-listen.js';
import { decodeRoomPath, encodeRoomPath, type WebSocketWire } from '../src/websocket-wire.js';
import { expectSameState, nextMessage, textIs } from './helpers.js';

async function startServer(options: BindOptions = {}): Promise<{ wire: WebSocketWire; server: RoomServer }> {
  const wire = websocket({ port: 0 });
  const server = await bind(wire, options);
  useTeardown(() => server.close());
  return { wire, server };
}

async function join(wire: WebSocketWire, options: ConnectOptions): Promise<RoomClient> {
  const client = await connect(wire, options);
  useTeardown(() => client.close());
  return client;
}

describe('websocket wire', () => {
  it('binds on port 0 and syncs clients in the room named by the URL path', async () => {
    const { wire, server } = await startServer();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    const alice = await join(wire, { id: 'notes/2024 plan' });
    const bob = await join(websocket({ port: server.port! }), { id: 'notes/2024 plan' });
    await Promise.all([alice.synced, bob.synced]);
    expect([...server.rooms.keys()]).toEqual(['notes/2024 plan']);
    alice.doc.getText('text').insert(0, 'over the network');
    await textIs(bob.doc, 'over the network');
    bob.doc.getMap('map').set('n', 1);
    await Promise.all([alice.flush(), bob.flush()]);
    await alice.flush();
    expect(expectSameState(alice.doc, bob.doc).same).toBe(true);
  });

  it('carries the token as a query parameter and refuses with PermissionDenied then 4403', async () => {
    const { wire, server } = await startServer({ authenticate: ({ token }) => token === 's3cret' });
    expect(wire.roomUrl('r', 'a b')).toBe(`ws://127.0.0.1:${server.port}/r?token=a+b`);
    const raw = await connectWebSocket(wire.roomUrl('r', 'wrong'));
    expect(await nextMessage(raw)).toEqual({ type: 'permission-denied', reason: 'permission denied' });
    const info = await raw.closed;
    expect(info.code).toBe(CLOSE_PERMISSION_DENIED);
    expect(info.reason).toBe('permission denied');

    const refused = await join(wire, { id: 'r', token: 'wrong' });
    await expect(refused.synced).rejects.toBeInstanceOf(PermissionDeniedError);
    const admitted = await join(wire, { id: 'r', token: async () => 's3cret' });
    await admitted.synced;
  });

  it('accepts a Bearer token in the Authorization header from Node clients', async () => {
    let seen: string | undefined;
    const { server } = await startServer({
      authenticate: ({ token }) => {
        seen = token;
        return true;
      },
    });
    const client = await join(websocket({ port: server.port!, headers: { authorization: 'Bearer from-header' } }), {
      id: 'h',
    });
    await client.synced;
    expect(seen).toBe('from-header');
  });

  it('honours a path prefix', async () => {
    const wire = websocket({ port: 0, path: '/collab' });
    const server = await bind(wire);
    useTeardown(() => server.close());
    expect(wire.roomUrl('x')).toBe(`ws://127.0.0.1:${server.port}/collab/x`);
    const client = await join(wire, { id: 'x' });
    await client.synced;
    expect([...server.rooms.keys()]).toEqual(['x']);
    const outside = await connectWebSocket(`ws://127.0.0.1:${server.port}/elsewhere`);
    expect((await outside.closed).reason).toMatch(/names no room/);
  });

  it('round-trips room ids through URL paths', () => {
    for (const id of ['plain', 'a/b', 'spaces and ünïcode', '100%', '?#&']) {
      expect(decodeRoomPath(encodeRoomPath(id))).toBe(id);
    }
    expect(decodeRoomPath('%E0%A4%A')).toBeUndefined();
  });

  it('reports a connection failure on synced when reconnecting is off', async () => {
    const { server } = await startServer();
    const port = server.port!;
    await server.close();
    const client = await join(websocket({ port }), { id: 'gone', reconnect: false });
    await expect(client.synced).rejects.toThrow(/could not connect/);
    expect(client.status).toBe('closed');
  });

  it('closes a connection sending garbage with 1002 and a reason; others carry on', async () => {
    const { wire } = await startServer();
    const good = await join(wire, { id: 'g' });
    await good.synced;
    const bad = await connectWebSocket(wire.roomUrl('g'));
    bad.write(Uint8Array.of(0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f));
    const info = await bad.closed;
    expect(info.code).toBe(1002);
    expect(info.reason).toMatch(/bad varint/);
    const other = await join(wire, { id: 'g' });
    good.doc.getText('text').insert(0, 'still fine');
    await textIs(other.doc, 'still fine');
  });
});
