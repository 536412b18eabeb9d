import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/server.js';
import { client, openStore, startServer, tempDir } from './helpers.js';

const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Run the writer until it has acknowledged `acks` writes, then SIGKILL it; resolves the last acknowledged id. */
function writeUntilKilled(directory: string, acks: number, options: Record<string, unknown> = {}): Promise<number> {
  const child = spawn(process.execPath, ['--conditions=@rt/source', '--import', 'tsx', writer, directory, JSON.stringify(options)], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  useTeardown(() => void child.kill('SIGKILL'));
  return new Promise<number>((resolve, reject) => {
    let seen = 0;
    let last = -1;
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^ack (\d+)$/.exec(line);
        if (!match) continue;
        last = Number(match[1]);
        seen += 1;
        if (seen === acks) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && last >= 0) resolve(last);
      else reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged write of a killed process, and streams them after restart', async () => {
    const directory = await tempDir();
    const lastFirst = await writeUntilKilled(directory, 300);
    const lastSecond = await writeUntilKilled(directory, 200);
    expect(lastSecond).toBeGreaterThan(lastFirst);
    const store = await openStore(directory);
    const ids = store
      .db('app')
      .collection('items')
      .find()
      .map((document) => document['_id'] as number)
      .sort((a, b) => a - b);
    // Acknowledged writes are all there, with no gap; a write in flight at the kill may be too.
    expect(ids.length).toBeGreaterThanOrEqual(lastSecond + 1);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index));
    const { url } = await startServer(store);
    const stream = client(url).db('app').collection('items').watch([], { startAtOperationTime: { t: 0, i: 0 } });
    const streamed: number[] = [];
    while (streamed.length < ids.length) {
      const change = await stream.next();
      if (change.operationType === 'insert') streamed.push(change.documentKey?.['_id'] as number);
    }
    expect(streamed).toEqual(ids);
  });

  it('keeps every acknowledged write when killed while compacting', async () => {
    const directory = await tempDir();
    const options = { retention: { retainChanges: 30 }, compactAfterBytes: 4096, compactEvery: 7 };
    let last = -1;
    for (const acks of [150, 120, 90]) {
      const acknowledged = await writeUntilKilled(directory, acks, options);
      expect(acknowledged).toBeGreaterThan(last);
      last = acknowledged;
      // Every crash leaves a loadable store holding every acknowledged write, with no gap.
      const store = await EmbeddedStore.open(directory, { retention: { retainChanges: 30 } });
      const ids = store
        .db('app')
        .collection('items')
        .find()
        .map((document) => document['_id'] as number)
        .sort((a, b) => a - b);
      expect(ids.length).toBeGreaterThanOrEqual(last + 1);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index));
      expect(store.changeCount).toBeLessThanOrEqual(30);
      await store.close();
    }
  });
});
