import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurableLog, frameRecord, readRecords } from '../src/server.js';
import { tempDir } from './helpers.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);

describe('record framing', () => {
  it('uses a 4-byte length and the standard CRC-32 (ISO-HDLC), so logs already on disk still load', () => {
    // 0xCBF43926 is the CRC-32/ISO-HDLC check value of "123456789".
    expect([...frameRecord(bytes('123456789')).subarray(0, 8)]).toEqual([0, 0, 0, 9, 0xcb, 0xf4, 0x39, 0x26]);
    // A hand-built frame of the single byte 0x00 (CRC-32 0xD202EF8D), then an empty payload (CRC-32 0).
    const file = Uint8Array.of(0, 0, 0, 1, 0xd2, 0x02, 0xef, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect(readRecords(file)).toEqual({ payloads: [Uint8Array.of(0), new Uint8Array()], validLength: file.length });
  });
});

describe('DurableLog', () => {
  it('rewrites the file in place, keeping appends queued before and after in order', async () => {
    const path = join(await tempDir(), 'log');
    const first = await DurableLog.open(path);
    await first.log.append([bytes('old-1'), bytes('old-2')]);
    const before = first.log.append([bytes('queued-before')]);
    const rewritten = first.log.rewrite(function* () {
      yield bytes('snapshot');
    });
    const after = first.log.append([bytes('queued-after')]);
    await Promise.all([before, rewritten, after]);
    await first.log.append([bytes('later')]);
    expect(first.log.size).toBe((await stat(path)).size);
    await first.log.close();
    const second = await DurableLog.open(path);
    expect(second.payloads.map(text)).toEqual(['snapshot', 'queued-after', 'later']);
    await second.log.close();
  });

  it('ignores and removes a half-written compaction file left by a crash', async () => {
    const path = join(await tempDir(), 'log');
    const first = await DurableLog.open(path);
    await first.log.append([bytes('kept')]);
    await first.log.close();
    await writeFile(path + '.compact', frameRecord(bytes('never renamed')).subarray(0, 5));
    const second = await DurableLog.open(path);
    expect(second.payloads.map(text)).toEqual(['kept']);
    await expect(stat(path + '.compact')).rejects.toMatchObject({ code: 'ENOENT' });
    await second.log.close();
  });

  it('reads back what was appended, across reopen', async () => {
    const path = join(await tempDir(), 'log');
    const first = await DurableLog.open(path);
    await Promise.all([first.log.append([bytes('a'), bytes('bb')]), first.log.append([bytes('ccc')])]);
    await first.log.close();
    const second = await DurableLog.open(path);
    expect(second.payloads.map(text)).toEqual(['a', 'bb', 'ccc']);
    await second.log.close();
  });

  it('drops a torn tail and keeps appending after it', async () => {
    const path = join(await tempDir(), 'log');
    const first = await DurableLog.open(path);
    await first.log.append([bytes('one'), bytes('two')]);
    await first.log.close();
    const size = (await stat(path)).size;
    await truncate(path, size - 2);
    const second = await DurableLog.open(path);
    expect(second.payloads.map(text)).toEqual(['one']);
    await second.log.append([bytes('three')]);
    await second.log.close();
    const third = await DurableLog.open(path);
    expect(third.payloads.map(text)).toEqual(['one', 'three']);
    await third.log.close();
  });

  it('drops a record whose checksum does not match', async () => {
    const path = join(await tempDir(), 'log');
    const good = frameRecord(bytes('good'));
    const bad = frameRecord(bytes('bad!'));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    await writeFile(path, good);
    await appendFile(path, bad);
    const opened = await DurableLog.open(path);
    expect(opened.payloads.map(text)).toEqual(['good']);
    await opened.log.close();
    expect((await readFile(path)).length).toBe(good.length);
  });

  it('finds the intact prefix of any cut of a valid file', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 8 }), fc.nat(), (items, cut) => {
        const frames = items.map((item) => frameRecord(bytes(item)));
        const whole = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
        let offset = 0;
        const ends: number[] = [];
        for (const frame of frames) {
          whole.set(frame, offset);
          offset += frame.length;
          ends.push(offset);
        }
        const length = cut % (whole.length + 1);
        const { payloads, validLength } = readRecords(whole.subarray(0, length));
        const complete = ends.filter((end) => end <= length).length;
        expect(payloads.map(text)).toEqual(items.slice(0, complete));
        expect(validLength).toBe(complete === 0 ? 0 : ends[complete - 1]);
      }),
    );
  });
});
