import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bind, connect, fileStore, PermissionDeniedError, websocket, type RoomClient } from '@rt/rooms';
import { waitFor } from '@rt/transport';
import * as Y from 'yjs';
import type { Chapter } from '../chapter.js';

const STEP_TIMEOUT_MS = 5_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return waitFor(promise, { timeoutMs: STEP_TIMEOUT_MS, what });
}

/** Resolve once `check()` holds for `doc`, re-checking after every update. */
function until(doc: Y.Doc, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  let listener!: () => void;
  const reached = new Promise<void>((resolve) => {
    listener = () => {
      if (check()) resolve();
    };
    doc.on('update', listener);
  });
  return within(reached, what).finally(() => doc.off('update', listener));
}

export const chapter: Chapter = {
  title: 'Rooms: Yjs documents shared over y-protocols, with auth, presence and a durable store',
  async run(log) {
    const directory = await mkdtemp(join(tmpdir(), 'rt-demo-rooms-'));
    const clients: RoomClient[] = [];
    const store = fileStore({ directory });
    const server = await bind(websocket({ port: 0 }), {
      store,
      authenticate: ({ token }) => (token === 'reader' ? { readOnly: true } : token === 'writer'),
    });
    try {
      log(`server: rooms on ws://127.0.0.1:${server.port}/<room>, file store in ${directory}`);
      const wire = websocket({ port: server.port! });
      const join = async (name: string, token: string): Promise<RoomClient> => {
        const client = await connect(wire, { id: 'notes', token });
        clients.push(client);
        client.awareness.setLocalStateField('name', name);
        return client;
      };

      const ada = await join('ada', 'writer');
      const bob = await join('bob', 'writer');
      await within(Promise.all([ada.synced, bob.synced]), 'first sync');
      log('ada and bob joined room "notes" and synced');

      ada.doc.getText('text').insert(0, 'Meeting notes: ');
      bob.doc.getMap('map').set('owner', 'bob');
      await until(bob.doc, () => bob.doc.getText('text').toString() === 'Meeting notes: ', 'ada → bob');
      await until(ada.doc, () => ada.doc.getMap('map').get('owner') === 'bob', 'bob → ada');
      log(`bob sees ada's text "${bob.doc.getText('text').toString()}"; ada sees owner=${String(ada.doc.getMap('map').get('owner'))}`);

      const names = () => [...bob.awareness.getStates().values()].map((state) => String(state['name'])).sort();
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (names().includes('ada')) resolve();
          };
          bob.awareness.on('change', check);
          check();
        }),
        'presence',
      );
      log(`presence seen by bob: ${names().join(', ')}`);

      const reader = await join('carol', 'reader');
      await within(reader.synced, 'reader sync');
      reader.doc.getText('text').insert(0, 'graffiti ');
      await reader.flush();
      const serverText = server.rooms.get('notes')?.doc.getText('text').toString();
      if (serverText !== 'Meeting notes: ') throw new Error(`a read-only edit got through: "${serverText}"`);
      log(`carol (read-only) got the document; her edit was refused, the room still says "${serverText}"`);

      const intruder = await connect(wire, { id: 'notes', token: 'guess' });
      clients.push(intruder);
      const refusal = await intruder.synced.then(
        () => undefined,
        (error: unknown) => error,
      );
      if (!(refusal instanceof PermissionDeniedError)) throw new Error('a bad token was let in');
      log(`a client with a bad token got PermissionDenied ("${refusal.reason}") and stopped (status ${intruder.status})`);

      ada.doc.getText('text').insert(15, 'ship rooms on Friday.');
      await ada.flush();
      log('ada flushed: the server acknowledged her edit only after writing it to disk');
      for (const client of clients.splice(0)) await client.close();
      await server.close();
      log('all clients left; the server flushed and closed');

      const restarted = await bind(websocket({ port: 0 }), { store: fileStore({ directory }) });
      try {
        const late = await connect(websocket({ port: restarted.port! }), { id: 'notes' });
        clients.push(late);
        await within(late.synced, 'sync after restart');
        const text = late.doc.getText('text').toString();
        if (text !== 'Meeting notes: ship rooms on Friday.') throw new Error(`after restart: "${text}"`);
        log(`a new server on the same directory serves "${text}"`);
      } finally {
        for (const client of clients.splice(0)) await client.close();
        await restarted.close();
      }
    } finally {
      for (const client of clients) await client.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    }
  },
};
