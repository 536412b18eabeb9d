import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcessPeer, useTeardown, type PeerProcess } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connect } from '../src/client.js';
import { websocket } from '../src/websocket-listen.js';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));

async function startServerProcess(directory: string): Promise<PeerProcess> {
  const peer = await startProcessPeer({
    name: 'rooms-server',
    command: process.execPath,
    args: ['--conditions=@rt/source', '--import', 'tsx', join(packageDirectory, 'test/peers/rooms-server.ts'), directory],
    cwd: packageDirectory,
    readyPattern: /READY (\d+)/,
    timeoutMs: 20_000,
  });
  useTeardown(() => peer.stop());
  return peer;
}

describe('durability with the file store', () => {
  it('loses no acknowledged update when the server process is killed and restarted', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'rt-rooms-kill-'));
    useTeardown(() => rmSync(directory, { recursive: true, force: true }));
    const first = await startServerProcess(directory);
    const writer = await connect(websocket({ port: first.port! }), { id: 'durable', reconnect: false });
    useTeardown(() => writer.close());
    await writer.synced;
    const map = writer.doc.getMap<number>('map');
    const acknowledged: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const keys = [0, 1, 2].map((index) => `k${batch}-${index}`);
      for (const key of keys) map.set(key, batch);
      writer.doc.getText('text').insert(0, `${batch};`);
      await writer.flush();
      acknowledged.push(...keys);
    }
    const acknowledgedText = writer.doc.getText('text').toString();
    // Unacknowledged edits in flight when the process dies may or may not survive.
    for (let index = 0; index < 20; index++) map.set(`maybe${index}`, index);

    process.kill(first.pid, 'SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await writer.close();

    const second = await startServerProcess(directory);
    const reader = await connect(websocket({ port: second.port! }), { id: 'durable', reconnect: false, doc: new Y.Doc() });
    useTeardown(() => reader.close());
    await reader.synced;
    const restored = reader.doc.getMap<number>('map');
    expect(acknowledged.filter((key) => !restored.has(key))).toEqual([]);
    expect(reader.doc.getText('text').toString().endsWith(acknowledgedText)).toBe(true);
  });
});
