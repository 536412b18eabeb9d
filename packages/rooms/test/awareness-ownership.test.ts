import type { Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { connect, type RoomClient } from '../src/client.js';
import type { ConnectOptions } from '../src/client-options.js';
import { memory, type MemoryWire } from '../src/memory-wire.js';
import {
  decodeAwarenessUpdate,
  encodeAwarenessEntries,
  encodeAwarenessUpdateMessage,
  type AwarenessEntry,
  type RoomMessage,
} from '../src/protocol.js';
import type { RoomConnection } from '../src/room-connection.js';
import type { Room } from '../src/room.js';
import { bind, type BindOptions, type RoomServer } from '../src/server.js';
import { awarenessMatches, nextEvent } from './helpers.js';

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

async function rawChannel(wire: MemoryWire, roomId: string): Promise<Transport> {
  const channel = await wire.open(roomId, {});
  useTeardown(() => channel.close());
  return channel;
}

function sendEntries(channel: Transport, entries: AwarenessEntry[]): void {
  channel.write(encodeAwarenessUpdateMessage(encodeAwarenessEntries(entries)));
}

function refusals(room: Room): { connection: RoomConnection; message: RoomMessage }[] {
  const seen: { connection: RoomConnection; message: RoomMessage }[] = [];
  room.on('refused', (connection, message) => seen.push({ connection, message }));
  return seen;
}

/** Every state `awareness` took for `clientId` (`null` for a removal), in order. */
function historyOf(awareness: awarenessProtocol.Awareness, clientId: number): unknown[] {
  const history: unknown[] = [];
  awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
    if (added.includes(clientId) || updated.includes(clientId)) history.push(awareness.getStates().get(clientId));
    if (removed.includes(clientId)) history.push(null);
  });
  return history;
}

/** Two clients in one room, `alice` announced as { name: 'alice' } and seen by `bob`. */
async function aliceAndBob(
  aliceOptions: Partial<ConnectOptions> = {},
): Promise<{ wire: MemoryWire; room: Room; alice: RoomClient; bob: RoomClient; aliceId: number }> {
  const { wire, server } = await startServer();
  const alice = await join(wire, { id: 'presence', ...aliceOptions });
  const bob = await join(wire, { id: 'presence' });
  await Promise.all([alice.synced, bob.synced]);
  alice.awareness.setLocalState({ name: 'alice' });
  const aliceId = alice.awareness.clientID;
  await awarenessMatches(bob.awareness, (states) => states.get(aliceId)?.['name'] === 'alice', 'alice seen');
  return { wire, room: server.rooms.get('presence')!, alice, bob, aliceId };
}

/** A client with alice's Yjs client id on a connection of its own (alice back on a new socket). */
async function aliceAgain(wire: MemoryWire, aliceId: number): Promise<RoomClient> {
  const doc = new Y.Doc();
  doc.clientID = aliceId;
  // Only presence is exercised: this document never edits (two writers with one id would clash).
  const again = await join(wire, { id: 'presence', doc });
  useTeardown(() => doc.destroy());
  await again.synced;
  return again;
}

describe('awareness ownership', () => {
  it('refuses changes to a client id another connection owns: not applied, not relayed, reported', async () => {
    const { wire, room, bob, aliceId } = await aliceAndBob();
    const seen = refusals(room);
    const bobSaw = historyOf(bob.awareness, aliceId);
    const mallory = await rawChannel(wire, 'presence');
    const ghost = 0x5eed;

    // An echo of alice's current state (what y-websocket clients send back) changes nothing: no refusal.
    const clock = room.awareness.meta.get(aliceId)!.clock;
    sendEntries(mallory, [{ clientId: aliceId, clock, state: { name: 'alice' } }]);
    // One message mixing an entry of mallory's own and a takeover of alice's id, then a removal of alice.
    sendEntries(mallory, [
      { clientId: ghost, clock: 1, state: { name: 'ghost' } },
      { clientId: aliceId, clock: clock + 5, state: { name: 'mallory' } },
    ]);
    sendEntries(mallory, [{ clientId: aliceId, clock: clock + 6, state: null }]);
    // The room handles one connection's messages in order: once this is relayed, so would the rest be.
    sendEntries(mallory, [{ clientId: ghost, clock: 2, state: { name: 'marker' } }]);
    await awarenessMatches(bob.awareness, (states) => states.get(ghost)?.['name'] === 'marker', 'marker relayed');

    expect(bobSaw).toEqual([]);
    expect(bob.awareness.getStates().get(aliceId)).toEqual({ name: 'alice' });
    expect(room.awareness.getStates().get(aliceId)).toEqual({ name: 'alice' });
    const malloryConnection = room.awarenessOwner(ghost)!;
    expect(malloryConnection).toBeDefined();
    expect(room.awarenessOwner(aliceId)).not.toBe(malloryConnection);
    expect(seen.map(({ connection }) => connection)).toEqual([malloryConnection, malloryConnection]);
    expect(malloryConnection.refusedCount).toBe(2);
    const refusedEntries = seen.map(({ message }) =>
      message.type === 'awareness' ? decodeAwarenessUpdate(message.update) : message.type,
    );
    expect(refusedEntries).toEqual([
      [{ clientId: aliceId, clock: clock + 5, state: { name: 'mallory' } }],
      [{ clientId: aliceId, clock: clock + 6, state: null }],
    ]);

    // Leaving removes what mallory owns, and only that.
    await mallory.close();
    await awarenessMatches(bob.awareness, (states) => !states.has(ghost), 'ghost removed');
    expect(bob.awareness.getStates().get(aliceId)).toEqual({ name: 'alice' });
  });

  it('lets a client that reconnects with the same client id take its presence back', async () => {
    const { room, alice, bob, aliceId } = await aliceAndBob();
    const oldConnection = room.awarenessOwner(aliceId)!;
    const bobSaw = historyOf(bob.awareness, aliceId);
    // The client keeps its clientID and its awareness clock across reconnects; the room
    // holds that clock for the removed state, so it answers with a withdrawal and the
    // client announces itself again with a newer clock.
    alice.reconnect();
    await awarenessMatches(
      bob.awareness,
      () => bobSaw.includes(null) && bob.awareness.getStates().get(aliceId)?.['name'] === 'alice',
      'alice removed, then back',
    );
    const owner = room.awarenessOwner(aliceId);
    expect(owner).toBeDefined();
    expect(owner).not.toBe(oldConnection);
    expect(room.clients.has(owner!)).toBe(true);
    expect(owner!.refusedCount).toBe(0);
  });

  it('gives a refused id to the new connection once the server closes the old one', async () => {
    const { wire, room, alice, bob, aliceId } = await aliceAndBob({ reconnect: false });
    const seen = refusals(room);
    const oldConnection = room.awarenessOwner(aliceId)!;
    const again = await aliceAgain(wire, aliceId);
    const refused = nextEvent<[RoomConnection, RoomMessage]>((listener) => room.on('refused', listener));
    again.awareness.setLocalState({ name: 'alice, draft' });
    again.awareness.setLocalState({ name: 'alice on a new socket' });
    await refused;
    expect(room.awareness.getStates().get(aliceId)).toEqual({ name: 'alice' });
    expect(seen.every(({ connection }) => connection !== oldConnection)).toBe(true);

    // The server notices the old connection is gone: its states go, the id is offered to the new one.
    await oldConnection.channel.close(1001, 'gone');
    await awarenessMatches(
      bob.awareness,
      (states) => states.get(aliceId)?.['name'] === 'alice on a new socket',
      'the new connection announced alice',
    );
    const owner = room.awarenessOwner(aliceId);
    expect(owner).toBeDefined();
    expect(owner).not.toBe(oldConnection);
    expect(room.clients.has(oldConnection)).toBe(false);
    expect(alice.awareness.getLocalState()).toEqual({ name: 'alice' });
  });

  it("releases an id whose state timed out (y-protocols' 30 s outdated check) while its connection stays", async () => {
    const { wire, server } = await startServer();
    const bob = await join(wire, { id: 'presence' });
    await bob.synced;
    const room = server.rooms.get('presence')!;
    // The old connection went silent without the server noticing: it answers nothing.
    const old = await rawChannel(wire, 'presence');
    const aliceId = 0xa11ce;
    sendEntries(old, [{ clientId: aliceId, clock: 1, state: { name: 'alice' } }]);
    await awarenessMatches(bob.awareness, (states) => states.get(aliceId)?.['name'] === 'alice', 'alice seen');
    const oldConnection = room.awarenessOwner(aliceId)!;
    const again = await aliceAgain(wire, aliceId);
    const refused = nextEvent<[RoomConnection, RoomMessage]>((listener) => room.on('refused', listener));
    again.awareness.setLocalState({ name: 'alice, draft' });
    again.awareness.setLocalState({ name: 'alice on a new socket' });
    await refused;
    expect(bob.awareness.getStates().get(aliceId)).toEqual({ name: 'alice' });

    // What the room's Awareness does by itself to a state not renewed for 30 s.
    awarenessProtocol.removeAwarenessStates(room.awareness, [aliceId], 'timeout');
    await awarenessMatches(
      bob.awareness,
      (states) => states.get(aliceId)?.['name'] === 'alice on a new socket',
      'the new connection announced alice',
    );
    const owner = room.awarenessOwner(aliceId)!;
    expect(owner).not.toBe(oldConnection);
    expect(oldConnection.awarenessClients.has(aliceId)).toBe(false);

    // The old connection leaving no longer takes the id's state with it.
    const bobSaw = historyOf(bob.awareness, aliceId);
    const left = nextEvent<[RoomConnection, unknown]>((listener) => room.on('leave', listener), (who) => who === oldConnection);
    await old.close();
    await left;
    again.awareness.setLocalState({ name: 'still here' });
    await awarenessMatches(bob.awareness, (states) => states.get(aliceId)?.['name'] === 'still here', 'later state');
    expect(bobSaw).not.toContain(null);
    expect(room.awarenessOwner(aliceId)).toBe(owner);
  });
});

describe('hibernation', () => {
  it('stays asleep when a reconnecting client sends deletions the document already has', async () => {
    const { wire, server } = await startServer({ roomOptions: { hibernateAfterMs: 20, keepaliveMs: 0 } });
    const alice = await join(wire, { id: 'sleepy' });
    await alice.synced;
    const room = server.rooms.get('sleepy')!;
    const asleep = nextEvent<[]>((listener) => room.on('hibernate', listener));
    alice.doc.getText('text').insert(0, 'dreaming deeply');
    alice.doc.getText('text').delete(8, 7);
    await alice.flush();
    await asleep;
    expect(room.hibernating).toBe(true);
    let woke = false;
    room.on('wake', () => {
      woke = true;
    });

    // A client that already has everything: its handshake (sync step 2) carries no new
    // structs, only the delete set, which the document already holds.
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(alice.doc));
    useTeardown(() => doc.destroy());
    const bob = await join(wire, { id: 'sleepy', doc });
    await bob.synced;
    // The acknowledgement of a flush comes after the room handled everything bob sent before.
    await bob.flush();
    expect(woke).toBe(false);
    expect(room.hibernating).toBe(true);

    // A deletion the document lacks still wakes it.
    const awake = nextEvent<[]>((listener) => room.on('wake', listener));
    bob.doc.getText('text').delete(0, 1);
    await awake;
    await bob.flush();
    expect(room.doc.getText('text').toString()).toBe('reaming');
  });
});
