import { CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, createMemoryPair, deferred, type Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connect, type RoomClient } from '../src/client.js';
import type { ConnectOptions } from '../src/client-options.js';
import { CLOSE_PERMISSION_DENIED } from '../src/close-codes.js';
import { PermissionDeniedError } from '../src/errors.js';
import { memory, type MemoryWire } from '../src/memory-wire.js';
import {
  EMPTY_AWARENESS_MESSAGE,
  encodeAwarenessUpdateMessage,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeUpdate,
  type RoomMessage,
} from '../src/protocol.js';
import type { RoomConnection } from '../src/room-connection.js';
import { Room } from '../src/room.js';
import { bind, type BindOptions, type RoomServer } from '../src/server.js';
import { MemoryStore } from '../src/store.js';
import { awarenessMatches, docMatches, expectSameState, nextEvent, nextMessage, nextOfType, textIs } from './helpers.js';

async function startServer(options: BindOptions = {}): Promise<{ wire: MemoryWire; server: RoomServer }> {
  const wire = memory();
  const server = await bind(wire, options);
  useTeardown(() => server.close());
  return { wire, server };
}

async function join(wire: MemoryWire, options: ConnectOptions): Promise<RoomClient> {
  const client = await connect(wire, options);
  useTeardown(() => client.close());
  return client;
}

async function rawChannel(wire: MemoryWire, roomId: string, token?: string): Promise<Transport> {
  const channel = await wire.open(roomId, { token });
  useTeardown(() => channel.close());
  return channel;
}

describe('Room over the memory wire', () => {
  it('syncs text and map edits between clients and the server, both ways', async () => {
    const { wire, server } = await startServer();
    const alice = await join(wire, { id: 'doc' });
    const bob = await join(wire, { id: 'doc' });
    await Promise.all([alice.synced, bob.synced]);
    expect(alice.isSynced).toBe(true);

    alice.doc.getText('text').insert(0, 'hello');
    bob.doc.getMap('map').set('k', 1);
    await textIs(bob.doc, 'hello');
    await docMatches(alice.doc, (doc) => doc.getMap('map').get('k') === 1);
    bob.doc.getText('text').insert(5, ' world');
    await textIs(alice.doc, 'hello world');
    await Promise.all([alice.flush(), bob.flush()]);

    const room = server.rooms.get('doc');
    expect(room?.clients.size).toBe(2);
    expect(expectSameState(room!.doc, alice.doc)).toMatchObject({ same: true });
    expect(expectSameState(alice.doc, bob.doc)).toMatchObject({ same: true });
  });

  it('brings a late joiner up to date and keeps rooms apart', async () => {
    const { wire } = await startServer();
    const first = await join(wire, { id: 'a' });
    first.doc.getText('text').insert(0, 'early');
    await first.flush();
    const late = await join(wire, { id: 'a' });
    await late.synced;
    expect(late.doc.getText('text').toString()).toBe('early');
    const other = await join(wire, { id: 'b' });
    await other.synced;
    expect(other.doc.getText('text').toString()).toBe('');
  });

  it('relays awareness to every client including the sender, and removes it on disconnect', async () => {
    const { wire, server } = await startServer();
    const alice = await join(wire, { id: 'presence' });
    const raw = await rawChannel(wire, 'presence');
    await alice.synced;
    alice.awareness.setLocalState({ name: 'alice' });
    // The raw channel hears alice's state...
    const seen = await nextOfType(raw, 'awareness');
    expect(seen.update.length).toBeGreaterThan(1);
    const room = server.rooms.get('presence')!;
    await awarenessMatches(room.awareness, (states) => states.get(alice.doc.clientID)?.['name'] === 'alice');

    // ...and the sender hears its own update echoed back.
    const { Awareness, encodeAwarenessUpdate } = await import('y-protocols/awareness');
    const { decodeAwarenessUpdate } = await import('../src/protocol.js');
    const rawPresence = new Awareness(new Y.Doc());
    rawPresence.setLocalState({ name: 'raw' });
    raw.write(encodeAwarenessUpdateMessage(encodeAwarenessUpdate(rawPresence, [rawPresence.clientID])));
    rawPresence.destroy();
    for (;;) {
      const echo = await nextOfType(raw, 'awareness');
      if (decodeAwarenessUpdate(echo.update).some((entry) => entry.clientId === rawPresence.clientID)) break;
    }

    const bobDoc = new Y.Doc();
    const bob = await join(wire, { id: 'presence', doc: bobDoc });
    await bob.synced;
    await awarenessMatches(bob.awareness, (states) => states.get(alice.doc.clientID)?.['name'] === 'alice');
    bob.awareness.setLocalState({ name: 'bob' });
    await awarenessMatches(alice.awareness, (states) => states.get(bobDoc.clientID)?.['name'] === 'bob');

    // Bob's channel is lost without a goodbye: his state is removed everywhere.
    bob.reconnect();
    await bob.close();
    await awarenessMatches(alice.awareness, (states) => !states.has(bobDoc.clientID), 'bob removed');
    await awarenessMatches(room.awareness, (states) => !states.has(bobDoc.clientID), 'bob removed on the server');
  });

  it('removes the awareness states a channel introduced when it drops', async () => {
    const { wire, server } = await startServer();
    const watcher = await join(wire, { id: 'drop' });
    await watcher.synced;
    const raw = await rawChannel(wire, 'drop');
    const ghost = new Y.Doc();
    const { Awareness, encodeAwarenessUpdate } = await import('y-protocols/awareness');
    const ghostAwareness = new Awareness(ghost);
    ghostAwareness.setLocalState({ name: 'ghost' });
    raw.write(encodeAwarenessUpdateMessage(encodeAwarenessUpdate(ghostAwareness, [ghost.clientID])));
    ghostAwareness.destroy();
    await awarenessMatches(watcher.awareness, (states) => states.has(ghost.clientID), 'ghost seen');
    raw.abort();
    await awarenessMatches(watcher.awareness, (states) => !states.has(ghost.clientID), 'ghost removed');
    expect(server.rooms.get('drop')?.awareness.getStates().has(ghost.clientID)).toBe(false);
  });

  it('answers QueryAwareness with every known state', async () => {
    const { wire } = await startServer();
    const alice = await join(wire, { id: 'q' });
    await alice.synced;
    alice.awareness.setLocalState({ name: 'alice' });
    await alice.flush();
    const raw = await rawChannel(wire, 'q');
    await nextOfType(raw, 'sync-step1');
    raw.write(encodeQueryAwareness());
    const { decodeAwarenessUpdate } = await import('../src/protocol.js');
    for (;;) {
      const reply = await nextOfType(raw, 'awareness');
      const entries = decodeAwarenessUpdate(reply.update);
      if (entries.some((entry) => entry.clientId === alice.doc.clientID)) {
        expect(entries.find((entry) => entry.clientId === alice.doc.clientID)?.state).toEqual({ name: 'alice' });
        break;
      }
    }
  });

  it('sends PermissionDenied before closing a refused connection', async () => {
    const { wire, server } = await startServer({
      authenticate: ({ token }) => token === 'good',
    });
    const raw = await rawChannel(wire, 'secret', 'bad');
    expect(await nextMessage(raw)).toEqual({ type: 'permission-denied', reason: 'permission denied' });
    const info = await raw.closed;
    expect(info.code).toBe(CLOSE_PERMISSION_DENIED);
    expect(server.rooms.has('secret')).toBe(false);

    const client = await join(wire, { id: 'secret', token: 'bad' });
    const denied = nextEvent<[string]>((listener) => client.on('permission-denied', listener));
    await expect(client.synced).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(await denied).toEqual(['permission denied']);
    expect(client.status).toBe('denied');

    const allowed = await join(wire, { id: 'secret', token: 'good' });
    await allowed.synced;
  });

  it('passes the reason of a thrown PermissionDeniedError', async () => {
    const { wire } = await startServer({
      authenticate: () => {
        throw new PermissionDeniedError('token expired');
      },
    });
    const client = await join(wire, { id: 'x', token: 't' });
    await expect(client.synced).rejects.toThrow('permission denied: token expired');
  });

  it('serves state to read-only connections but refuses their updates', async () => {
    const { wire, server } = await startServer({
      authenticate: ({ token }) => ({ readOnly: token === 'viewer', context: { token } }),
    });
    const editor = await join(wire, { id: 'ro', token: 'editor' });
    editor.doc.getText('text').insert(0, 'content');
    await editor.flush();
    const viewer = await join(wire, { id: 'ro', token: 'viewer' });
    await viewer.synced;
    expect(viewer.doc.getText('text').toString()).toBe('content');

    const room = server.rooms.get('ro')!;
    const refused = nextEvent<[RoomConnection, RoomMessage]>(
      (listener) => room.on('refused', listener),
      (_connection, message) => message.type === 'update',
    );
    viewer.doc.getText('text').insert(0, 'vandal ');
    const [connection, message] = await refused;
    expect(connection.readOnly).toBe(true);
    expect(connection.context).toEqual({ token: 'viewer' });
    expect(message.type).toBe('update');
    await viewer.flush();
    expect(room.doc.getText('text').toString()).toBe('content');
    // Live edits still reach the viewer.
    editor.doc.getText('text').insert(7, '!');
    await docMatches(viewer.doc, (doc) => doc.getText('text').toString().includes('content!'));
  });

  it('evaluates the token again on every reconnect', async () => {
    const seen: (string | undefined)[] = [];
    const { wire } = await startServer({
      authenticate: ({ token }) => {
        seen.push(token);
        return true;
      },
    });
    let count = 0;
    const client = await join(wire, { id: 't', token: () => `token-${++count}`, reconnect: { initialDelayMs: 1, jitter: 0 } });
    await client.synced;
    const resynced = nextEvent<[boolean]>((listener) => client.on('synced', listener), (synced) => synced);
    client.reconnect();
    await resynced;
    expect(seen).toEqual(['token-1', 'token-2']);
  });

  it('applies a custom message filter (Room subclass)', async () => {
    class NoPresenceRoom extends Room {
      override filter(message: RoomMessage): boolean {
        return message.type !== 'awareness';
      }
    }
    const { wire, server } = await startServer({ roomFactory: (id, options) => new NoPresenceRoom(id, options) });
    const client = await join(wire, { id: 'f' });
    await client.synced;
    client.awareness.setLocalState({ name: 'hidden' });
    client.doc.getText('text').insert(0, 'visible');
    await client.flush();
    const room = server.rooms.get('f')!;
    expect(room).toBeInstanceOf(NoPresenceRoom);
    expect(room.doc.getText('text').toString()).toBe('visible');
    expect(room.awareness.getStates().size).toBe(0);
  });

  it('keeps a silent client alive with empty awareness messages', async () => {
    const { wire } = await startServer({ roomOptions: { keepaliveMs: 40 } });
    const raw = await rawChannel(wire, 'quiet');
    await nextOfType(raw, 'sync-step1');
    const frame = await raw.receive({ timeoutMs: 5_000 });
    expect(frame).toEqual(EMPTY_AWARENESS_MESSAGE);
  });

  it('pushes and pulls by hand when automatic updates are off', async () => {
    const { wire } = await startServer();
    const manual = await join(wire, { id: 'm', autoUpdates: false });
    const auto = await join(wire, { id: 'm' });
    await Promise.all([manual.synced, auto.synced]);

    manual.doc.getText('text').insert(0, 'draft');
    auto.doc.getMap('map').set('early', true);
    await auto.flush();
    expect(auto.doc.getText('text').toString()).toBe('');
    await manual.push();
    await textIs(auto.doc, 'draft');
    // push() and flush() do not apply what the server sent back: that waits for pull().
    await manual.flush();
    expect(manual.doc.getMap('map').get('early')).toBeUndefined();

    auto.doc.getMap('map').set('remote', true);
    await auto.flush();
    expect(manual.doc.getMap('map').get('remote')).toBeUndefined();
    await manual.pull();
    expect(manual.doc.getMap('map').toJSON()).toEqual({ early: true, remote: true });
  });
});

describe('Room lifecycle', () => {
  it('creates rooms on demand and unloads them once the last client left and the store flushed', async () => {
    const gate = deferred<void>();
    let holdWrites = true;
    class SlowStore extends MemoryStore {
      override async append(roomId: string, update: Uint8Array): Promise<void> {
        if (holdWrites) await gate.promise;
        await super.append(roomId, update);
      }
    }
    const store = new SlowStore();
    const { wire, server } = await startServer({ store });
    const client = await join(wire, { id: 'life' });
    await client.synced;
    expect([...server.rooms.keys()]).toEqual(['life']);
    client.doc.getText('text').insert(0, 'kept');
    const room = server.rooms.get('life')!;
    await textIs(room.doc, 'kept');

    let unloaded = false;
    const unload = nextEvent<[Room]>((listener) => server.on('unload', listener)).then(() => {
      unloaded = true;
    });
    const left = nextEvent<[unknown, unknown]>((listener) => room.on('leave', listener));
    await client.close();
    await left;
    // The write is still in flight: the room must stay until it lands.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unloaded).toBe(false);
    holdWrites = false;
    gate.resolve();
    await unload;
    expect(server.rooms.has('life')).toBe(false);

    const again = await join(wire, { id: 'life' });
    await again.synced;
    expect(again.doc.getText('text').toString()).toBe('kept');
    expect(server.rooms.get('life')).not.toBe(room);
  });

  it('hibernates an idle document, serves it encoded, and wakes on the next edit', async () => {
    const { wire, server } = await startServer({ roomOptions: { hibernateAfterMs: 20, keepaliveMs: 0 } });
    const alice = await join(wire, { id: 'sleepy' });
    await alice.synced;
    const room = server.rooms.get('sleepy')!;
    const asleep = nextEvent<[]>((listener) => room.on('hibernate', listener));
    alice.doc.getText('text').insert(0, 'dreaming');
    await asleep;
    expect(room.hibernating).toBe(true);

    const bob = await join(wire, { id: 'sleepy' });
    await bob.synced;
    expect(bob.doc.getText('text').toString()).toBe('dreaming');
    await alice.flush();
    expect(room.hibernating).toBe(true);

    const awake = nextEvent<[]>((listener) => room.on('wake', listener));
    bob.doc.getText('text').insert(8, '!');
    await awake;
    await textIs(alice.doc, 'dreaming!');
    expect(expectSameState(room.doc, alice.doc)).toMatchObject({ same: true });
  });

  it('compacts the stored log after compactAfter updates and on unload', async () => {
    const store = new MemoryStore();
    const { wire, server } = await startServer({ store, roomOptions: { compactAfter: 5 } });
    const client = await join(wire, { id: 'c' });
    await client.synced;
    for (let index = 0; index < 12; index++) client.doc.getText('text').insert(index, 'x');
    await client.flush();
    expect(store.recordCount('c')).toBeLessThan(12);
    const unloaded = nextEvent<[Room]>((listener) => server.on('unload', listener));
    await client.close();
    await unloaded;
    expect(store.recordCount('c')).toBe(1);
    const [snapshot] = await store.load('c');
    const check = new Y.Doc();
    Y.applyUpdate(check, snapshot!);
    expect(check.getText('text').toString()).toBe('x'.repeat(12));
  });

  it('closes every client with 1001 and flushes on server close', async () => {
    const store = new MemoryStore();
    const wire = memory();
    const server = await bind(wire, { store });
    const client = await connect(wire, { id: 'bye', reconnect: false });
    await client.synced;
    client.doc.getText('text').insert(0, 'saved');
    await client.flush();
    const disconnected = nextEvent<[{ code: number }]>((listener) => client.on('disconnect', listener));
    await server.close();
    expect((await disconnected)[0].code).toBe(1001);
    expect(store.recordCount('bye')).toBe(1);
    await client.close();
    expect(client.status).toBe('closed');
  });
});

describe('bad input', () => {
  async function victimAndBystander(options: BindOptions = {}): Promise<{
    wire: MemoryWire;
    bystander: RoomClient;
    raw: Transport;
  }> {
    const { wire } = await startServer(options);
    const bystander = await join(wire, { id: 'bad' });
    await bystander.synced;
    const raw = await rawChannel(wire, 'bad');
    await nextOfType(raw, 'sync-step1');
    return { wire, bystander, raw };
  }

  async function bystanderStillWorks(wire: MemoryWire, bystander: RoomClient): Promise<void> {
    const other = await join(wire, { id: 'bad' });
    await other.synced;
    bystander.doc.getMap('map').set('still', 'fine');
    await docMatches(other.doc, (doc) => doc.getMap('map').get('still') === 'fine');
    expect(bystander.status).toBe('connected');
  }

  const cases: [string, Uint8Array | string, number, RegExp][] = [
    ['an unknown message type', Uint8Array.of(42), CLOSE_PROTOCOL_ERROR, /unknown message type 42/],
    ['a truncated varint', Uint8Array.of(0x80), CLOSE_PROTOCOL_ERROR, /bad varint/],
    ['a length past the end', Uint8Array.of(0, 2, 100, 1), CLOSE_PROTOCOL_ERROR, /claims 100 bytes/],
    ['a garbage Yjs update', encodeUpdate(Uint8Array.of(200, 1, 2, 3, 4)), CLOSE_PROTOCOL_ERROR, /malformed Yjs update/],
    ['a bad state vector', Uint8Array.of(0, 0, 2, 0xff, 0xff), CLOSE_PROTOCOL_ERROR, /state vector|varint/],
    ['awareness that is not JSON', encodeAwarenessUpdateMessage(Uint8Array.of(1, 1, 1, 1, 0x7b)), CLOSE_PROTOCOL_ERROR, /not JSON/],
    ['a text frame', 'hello', CLOSE_PROTOCOL_ERROR, /text frames/],
  ];

  for (const [name, frame, code, reason] of cases) {
    it(`closes a connection that sends ${name}; the room and its other clients carry on`, async () => {
      const { wire, bystander, raw } = await victimAndBystander();
      raw.write(frame);
      const info = await raw.closed;
      expect(info.code).toBe(code);
      expect(info.reason).toMatch(reason);
      await bystanderStillWorks(wire, bystander);
    });
  }

  it('closes a connection that sends an oversize update with 1009', async () => {
    const { wire, bystander, raw } = await victimAndBystander({ roomOptions: { maxMessageSize: 1024 } });
    const big = new Y.Doc();
    big.getText('text').insert(0, 'y'.repeat(4096));
    raw.write(encodeUpdate(Y.encodeStateAsUpdate(big)));
    const info = await raw.closed;
    expect(info.code).toBe(CLOSE_MESSAGE_TOO_BIG);
    expect(info.reason).toMatch(/exceeds the limit of 1024 bytes/);
    await bystanderStillWorks(wire, bystander);
    expect(bystander.doc.getText('text').toString()).not.toContain('y');
  });

  it('answers a sync step 1 on a raw channel with the room state', async () => {
    const { wire, bystander, raw } = await victimAndBystander();
    bystander.doc.getText('text').insert(0, 'state');
    await bystander.flush();
    raw.write(encodeSyncStep1(new Y.Doc()));
    const reply = await nextOfType(raw, 'sync-step2');
    const check = new Y.Doc();
    Y.applyUpdate(check, reply.update);
    expect(check.getText('text').toString()).toBe('state');
    await bystanderStillWorks(wire, bystander);
  });

  it('disconnects a client that reads too slowly with 1013, without holding up the others', async () => {
    // A channel whose socket buffer we can fill by hand.
    class BackedUpChannel implements Transport {
      backlog = 0;
      constructor(readonly inner: Transport) {}
      get state() {
        return this.inner.state;
      }
      get protocol() {
        return this.inner.protocol;
      }
      get remoteAddress() {
        return this.inner.remoteAddress;
      }
      get bufferedAmount() {
        return this.backlog;
      }
      get closed() {
        return this.inner.closed;
      }
      write(message: Uint8Array | string) {
        return this.inner.write(message);
      }
      send(message: Uint8Array | string) {
        return this.inner.send(message);
      }
      drained() {
        return this.inner.drained();
      }
      receive() {
        return this.inner.receive();
      }
      onMessage(handler: Parameters<Transport['onMessage']>[0]) {
        this.inner.onMessage(handler);
      }
      tryReceive() {
        return this.inner.tryReceive();
      }
      close(code?: number, reason?: string) {
        return this.inner.close(code, reason);
      }
      abort(error?: Error) {
        this.inner.abort(error);
      }
      [Symbol.asyncIterator]() {
        return this.inner[Symbol.asyncIterator]();
      }
      [Symbol.asyncDispose]() {
        return this.inner[Symbol.asyncDispose]();
      }
    }
    const room = new Room('slow', { maxBufferedBytes: 1000, keepaliveMs: 0 });
    useTeardown(() => room.close());
    const [slowClient, slowServer] = createMemoryPair();
    const slow = new BackedUpChannel(slowServer);
    const served = room.serve(slow);
    const [fastClient, fastServer] = createMemoryPair();
    void room.serve(fastServer);
    await nextOfType(slowClient, 'sync-step1');
    await nextOfType(fastClient, 'sync-step1');
    slow.backlog = 5000;
    fastClient.write(encodeUpdate(Y.encodeStateAsUpdate(docWithText('overflow'))));
    const info = await served;
    expect(info.code).toBe(1013);
    expect(info.reason).toMatch(/reads too slowly/);
    expect(room.clients.size).toBe(1);
    expect(room.doc.getText('text').toString()).toBe('overflow');
  });

  it('stops acknowledging when the store fails: the client is closed with 1011', async () => {
    class BrokenStore extends MemoryStore {
      override async append(): Promise<void> {
        throw new Error('disk full');
      }
    }
    const { wire, server } = await startServer({ store: new BrokenStore() });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const client = await join(wire, { id: 'broken', reconnect: false });
    await client.synced;
    const disconnected = nextEvent<[{ code: number; reason: string }]>((listener) => client.on('disconnect', listener));
    client.doc.getText('text').insert(0, 'lost?');
    await expect(client.flush()).rejects.toThrow(/closed before the server answered/);
    const [info] = await disconnected;
    expect(info.code).toBe(1011);
    expect(info.reason).toMatch(/storage failure/);
    expect(errors.some((error) => /disk full/.test(error.message))).toBe(true);
  });
});

function docWithText(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText('text').insert(0, text);
  return doc;
}
