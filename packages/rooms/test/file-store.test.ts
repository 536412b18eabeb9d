import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTeardown } from '@rt/test-harness';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../src/file-store.js';
import { encodeRecord, LOG_MAGIC, readLog } from '../src/update-log.js';

function tempDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'rt-rooms-'));
  useTeardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('update log records', () => {
  it('reads back what was written, and drops any torn or corrupt tail', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), fc.nat(), (payloads, cutSeed) => {
        const file = Buffer.concat([LOG_MAGIC, ...payloads.map(encodeRecord)]);
        expect(readLog(file)).toMatchObject({ records: payloads, validLength: file.length, tornTail: false });
        const cut = LOG_MAGIC.length + (cutSeed % (file.length - LOG_MAGIC.length + 1));
        const torn = readLog(file.subarray(0, cut));
        // Whatever survives is a prefix of what was written, ending on a record boundary.
        expect(payloads.slice(0, torn.records.length)).toEqual(torn.records);
        expect(torn.validLength).toBeLessThanOrEqual(cut);
        expect(torn.tornTail).toBe(torn.validLength < cut);
      }),
    );
  });

  it('frames a record as length and standard CRC-32 (ISO-HDLC), so logs already on disk still load', () => {
    const record = encodeRecord(new TextEncoder().encode('123456789'));
    // 0xCBF43926 is the CRC-32/ISO-HDLC check value of "123456789".
    expect([...record.subarray(0, 8)]).toEqual([0, 0, 0, 9, 0xcb, 0xf4, 0x39, 0x26]);
    const file = Buffer.concat([LOG_MAGIC, Uint8Array.of(0, 0, 0, 1, 0xd2, 0x02, 0xef, 0x8d, 0), record]);
    // A hand-built record of the single byte 0x00 (CRC-32 0xD202EF8D), then the encoded one.
    expect(readLog(file).records.map((payload) => [...payload])).toEqual([[0], [...new TextEncoder().encode('123456789')]]);
  });

  it('stops at a record whose checksum fails', () => {
    const file = Buffer.concat([LOG_MAGIC, encodeRecord(bytesOf(1)), encodeRecord(bytesOf(2, 2)), encodeRecord(bytesOf(3))]);
    file[LOG_MAGIC.length + 9 + 8]! ^= 0xff;
    const contents = readLog(file);
    expect(contents.records).toEqual([bytesOf(1)]);
    expect(contents.validLength).toBe(LOG_MAGIC.length + 9);
    expect(contents.tornTail).toBe(true);
  });

  it('flags a file without the header', () => {
    expect(readLog(new Uint8Array())).toMatchObject({ headerMissing: true, tornTail: false });
    expect(readLog(bytesOf(1, 2, 3))).toMatchObject({ headerMissing: true, tornTail: true, validLength: 0 });
  });
});

describe('FileStore', () => {
  it('persists appends across instances, in order', async () => {
    const directory = tempDirectory();
    const first = new FileStore({ directory });
    await Promise.all([first.append('room', bytesOf(1)), first.append('room', bytesOf(2)), first.append('other', bytesOf(9))]);
    await first.append('room', bytesOf(3));
    await first.close();
    const second = new FileStore({ directory });
    expect(await second.load('room')).toEqual([bytesOf(1), bytesOf(2), bytesOf(3)]);
    expect(await second.load('other')).toEqual([bytesOf(9)]);
    expect(await second.load('missing')).toEqual([]);
    await second.close();
  });

  it('cuts a torn tail off on load, and appends stay readable after it', async () => {
    const directory = tempDirectory();
    const dropped: number[] = [];
    const store = new FileStore({ directory, onTornTail: (_room, bytes) => dropped.push(bytes) });
    await store.append('r', bytesOf(1, 1));
    await store.release('r');
    const path = store.pathFor('r');
    const intact = (await stat(path)).size;
    // A crash in the middle of writing the next record:
    await appendFile(path, encodeRecord(bytesOf(7, 7, 7, 7)).subarray(0, 6));
    expect(await store.load('r')).toEqual([bytesOf(1, 1)]);
    expect(dropped).toEqual([6]);
    expect((await stat(path)).size).toBe(intact);
    await store.append('r', bytesOf(2));
    await store.close();
    expect(await new FileStore({ directory }).load('r')).toEqual([bytesOf(1, 1), bytesOf(2)]);
  });

  it('rewrites a log whose header is damaged', async () => {
    const directory = tempDirectory();
    const store = new FileStore({ directory });
    await writeFile(store.pathFor('bad'), bytesOf(1, 2, 3));
    expect(await store.load('bad')).toEqual([]);
    await store.append('bad', bytesOf(5));
    await store.close();
    expect(await new FileStore({ directory }).load('bad')).toEqual([bytesOf(5)]);
  });

  it('compacts to one snapshot record, atomically replacing the log', async () => {
    const directory = tempDirectory();
    const store = new FileStore({ directory });
    for (let index = 0; index < 10; index++) void store.append('c', bytesOf(index));
    await store.compact('c', bytesOf(42, 42));
    await store.append('c', bytesOf(43));
    await store.flush('c');
    const contents = readLog(await readFile(store.pathFor('c')));
    expect(contents.records).toEqual([bytesOf(42, 42), bytesOf(43)]);
    await store.close();
  });

  it('keeps odd room ids apart in safe file names', async () => {
    const directory = tempDirectory();
    const store = new FileStore({ directory });
    const ids = ['../escape', 'a/b', '*', 'x'.repeat(500), 'x'.repeat(501)];
    for (const [index, id] of ids.entries()) await store.append(id, bytesOf(index));
    for (const id of ids) expect(store.pathFor(id).startsWith(directory)).toBe(true);
    expect(new Set(ids.map((id) => store.pathFor(id))).size).toBe(ids.length);
    await store.close();
    const reopened = new FileStore({ directory });
    for (const [index, id] of ids.entries()) expect(await reopened.load(id)).toEqual([bytesOf(index)]);
  });

  it('truncates a log to a record boundary even when asked to load a half-written file twice', async () => {
    const directory = tempDirectory();
    const store = new FileStore({ directory });
    await store.append('t', bytesOf(1));
    await store.release('t');
    await truncate(store.pathFor('t'), LOG_MAGIC.length + 3);
    expect(await store.load('t')).toEqual([]);
    expect(await store.load('t')).toEqual([]);
    expect((await stat(store.pathFor('t'))).size).toBe(LOG_MAGIC.length);
  });
});
