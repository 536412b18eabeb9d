import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerAvailable, startProcessPeer, useTeardown, type PeerProcess } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { connect, type RoomClient } from '../src/client.js';
import { websocket } from '../src/websocket-listen.js';
import { awarenessMatches, docMatches, expectSameState, textIs } from './helpers.js';

// Our client against y-websocket servers nobody here wrote, each in its own process.

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const DEBIAN_UTILS = '/usr/share/nodejs/y-websocket/bin/utils.js';

interface PeerServer {
  name: string;
  start(): Promise<PeerProcess>;
  available(): Promise<boolean>;
}

const peers: PeerServer[] = [
  {
    name: '@y/websocket-server 0.1.1',
    available: () => peerAvailable('@y/websocket-server', () => existsSync(require.resolve('@y/websocket-server/package.json'))),
    start: () =>
      startProcessPeer({
        name: '@y/websocket-server',
        command: process.execPath,
        args: [join(here, 'peers/y-websocket-server.mjs')],
        readyPattern: /READY (\d+)/,
      }),
  },
  {
    name: 'Debian node-y-websocket 1.4.5',
    available: () =>
      peerAvailable('node-y-websocket (Debian)', () =>
        existsSync(DEBIAN_UTILS) ? true : { available: false, reason: `${DEBIAN_UTILS} is missing (apt-get install node-y-websocket)` },
      ),
    start: () =>
      startProcessPeer({
        name: 'node-y-websocket',
        command: process.execPath,
        args: [join(here, 'peers/debian-y-websocket.cjs')],
        // Debian's package has no `ws`; the script takes ours, the Yjs code is all Debian's.
        env: { NODE_PATH: '/usr/share/nodejs' },
        readyPattern: /READY (\d+) y-websocket (\S+)/,
      }),
  },
];

for (const peer of peers) {
  describe(`our client against ${peer.name}`, () => {
    async function setup(): Promise<{ port: number; process: PeerProcess } | undefined> {
      if (!(await peer.available())) return undefined;
      const process = await peer.start();
      useTeardown(() => process.stop());
      return { port: process.port!, process };
    }

    async function join(port: number, id: string): Promise<RoomClient> {
      const client = await connect(websocket({ port }), { id });
      useTeardown(() => client.close());
      return client;
    }

    it('syncs text and map edits between two of our clients through it', async () => {
      const started = await setup();
      if (!started) return;
      if (peer.name.startsWith('Debian')) expect(started.process.ready?.[2]).toBe('1.4.5');
      const alice = await join(started.port, 'interop');
      const bob = await join(started.port, 'interop');
      await Promise.all([alice.synced, bob.synced]);
      alice.doc.getText('text').insert(0, 'hello');
      await textIs(bob.doc, 'hello');
      bob.doc.getMap('map').set('k', 'v');
      await docMatches(alice.doc, (doc) => doc.getMap('map').get('k') === 'v');
      await Promise.all([alice.flush(), bob.flush()]);
      expect(expectSameState(alice.doc, bob.doc).same).toBe(true);

      const late = await join(started.port, 'interop');
      await late.synced;
      expect(expectSameState(late.doc, alice.doc).same).toBe(true);
    });

    it('shares awareness and removes it when a client leaves', async () => {
      const started = await setup();
      if (!started) return;
      const alice = await join(started.port, 'presence');
      const bob = await join(started.port, 'presence');
      await Promise.all([alice.synced, bob.synced]);
      alice.awareness.setLocalStateField('name', 'alice');
      await awarenessMatches(bob.awareness, (states) => states.get(alice.doc.clientID)?.['name'] === 'alice');
      await alice.close();
      await awarenessMatches(bob.awareness, (states) => !states.has(alice.doc.clientID), 'alice removed');
    });

    it('notices when the server goes away and reports it', async () => {
      const started = await setup();
      if (!started) return;
      const alice = await connect(websocket({ port: started.port }), { id: 'restart', reconnect: { initialDelayMs: 20, jitter: 0 } });
      useTeardown(() => alice.close());
      await alice.synced;
      alice.doc.getText('text').insert(0, 'survives');
      await alice.flush();
      const disconnected = new Promise<void>((resolve) => alice.once('disconnect', () => resolve()));
      await started.process.stop();
      await disconnected;
      expect(alice.isSynced).toBe(false);
    });
  });
}
