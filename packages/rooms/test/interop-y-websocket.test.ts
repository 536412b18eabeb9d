import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { connect, type RoomClient } from '../src/client.js';
import { bind, type BindOptions, type RoomServer } from '../src/server.js';
import { websocket } from '../src/websocket-listen.js';
import type { WebSocketWire } from '../src/websocket-wire.js';
import { awarenessMatches, docMatches, expectSameState, nextEvent, textIs } from './helpers.js';

// Interop with the y-websocket 3.1.0 client (a devDependency, always present).

async function startServer(options: BindOptions = {}): Promise<{ wire: WebSocketWire; server: RoomServer }> {
  const wire = websocket({ port: 0 });
  const server = await bind(wire, options);
  useTeardown(() => server.close());
  return { wire, server };
}

function provider(server: RoomServer, room: string, params: Record<string, string> = {}): WebsocketProvider {
  const doc = new Y.Doc();
  const created = new WebsocketProvider(`ws://127.0.0.1:${server.port}`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params,
  });
  useTeardown(() => {
    created.destroy();
    doc.destroy();
  });
  return created;
}

function providerSynced(created: WebsocketProvider): Promise<unknown> {
  if (created.synced) return Promise.resolve();
  return nextEvent<[boolean]>(
    (listener) => {
      created.on('sync', listener);
      return () => created.off('sync', listener);
    },
    (synced) => synced,
    'y-websocket sync',
  );
}

async function join(wire: WebSocketWire, id: string): Promise<RoomClient> {
  const client = await connect(wire, { id });
  useTeardown(() => client.close());
  return client;
}

describe('y-websocket 3.1.0 client against our server', () => {
  it('converges text and map edits both ways', async () => {
    const { wire, server } = await startServer();
    const theirs = provider(server, 'shared');
    const ours = await join(wire, 'shared');
    await Promise.all([providerSynced(theirs), ours.synced]);

    theirs.doc.getText('text').insert(0, 'from y-websocket');
    theirs.doc.getMap('map').set('them', 1);
    await textIs(ours.doc, 'from y-websocket');
    ours.doc.getText('text').insert(0, 'from rt: ');
    ours.doc.getMap('map').set('us', 2);
    await docMatches(theirs.doc, (doc) => doc.getMap('map').get('us') === 2 && doc.getText('text').length === 25);
    await ours.flush();
    expect(theirs.doc.getText('text').toString()).toBe('from rt: from y-websocket');
    expect(expectSameState(theirs.doc, ours.doc).same).toBe(true);
    expect(expectSameState(server.rooms.get('shared')!.doc, ours.doc).same).toBe(true);
  });

  it('brings a y-websocket client that joins late up to date', async () => {
    const { wire, server } = await startServer();
    const ours = await join(wire, 'late');
    ours.doc.getText('text').insert(0, 'already here');
    await ours.flush();
    const theirs = provider(server, 'late');
    await providerSynced(theirs);
    expect(theirs.doc.getText('text').toString()).toBe('already here');
  });

  it('shares awareness both ways', async () => {
    const { wire, server } = await startServer();
    const theirs = provider(server, 'aw');
    const ours = await join(wire, 'aw');
    await Promise.all([providerSynced(theirs), ours.synced]);
    theirs.awareness.setLocalStateField('user', 'them');
    ours.awareness.setLocalStateField('user', 'us');
    await awarenessMatches(ours.awareness, (states) => states.get(theirs.doc.clientID)?.['user'] === 'them');
    await awarenessMatches(theirs.awareness, (states) => states.get(ours.doc.clientID)?.['user'] === 'us');
    theirs.disconnect();
    await awarenessMatches(ours.awareness, (states) => !states.has(theirs.doc.clientID), 'y-websocket presence removed');
  });

  it('gives a y-websocket client its presence back after it reconnects with the same clientID', async () => {
    const { wire, server } = await startServer();
    const theirs = provider(server, 'back');
    const ours = await join(wire, 'back');
    await Promise.all([providerSynced(theirs), ours.synced]);
    const id = theirs.doc.clientID;
    theirs.awareness.setLocalStateField('user', 'them');
    await awarenessMatches(ours.awareness, (states) => states.get(id)?.['user'] === 'them');
    theirs.disconnect();
    await awarenessMatches(ours.awareness, (states) => !states.has(id), 'y-websocket presence removed');
    // y-websocket announces its state again with the same clock; the room withdraws it once
    // more, the client raises its clock and announces again.
    theirs.connect();
    await awarenessMatches(ours.awareness, (states) => states.get(id)?.['user'] === 'them', 'y-websocket presence back');
    const room = server.rooms.get('back')!;
    expect(room.awarenessOwner(id)).toBeDefined();
    expect(room.awarenessOwner(ours.awareness.clientID)).not.toBe(room.awarenessOwner(id));
  });

  it('stops a refused y-websocket client from reconnecting (4403 after PermissionDenied)', async () => {
    const { server } = await startServer({ authenticate: ({ token }) => token === 'ok' });
    const refused = provider(server, 'locked', { token: 'nope' });
    const [closed] = await nextEvent<[{ code: number; reason: string }]>(
      (listener) => {
        refused.on('closed', listener);
        return () => refused.off('closed', listener);
      },
      () => true,
      'y-websocket closed',
    );
    expect(closed).toEqual({ code: 4403, reason: 'permission denied' });
    expect(refused.shouldConnect).toBe(false);
    const admitted = provider(server, 'locked', { token: 'ok' });
    await providerSynced(admitted);
  });
});
