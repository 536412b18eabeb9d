import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChangeLog, ErrorCode, makeTokenData, ORIGIN_TOKEN_DATA, splitTokenData, type ChangeRecord } from '../src/server.js';
import { renderEvent } from '../src/server/render.js';

function record(sequence: number, second = sequence): ChangeRecord {
  return {
    token: makeTokenData(BigInt(sequence), 0),
    clusterTime: { t: second, i: 1 },
    wallTime: new Date(second * 1000),
    operationType: 'insert',
    ns: { db: 'app', coll: 'items' },
    documentKey: { _id: sequence },
    fullDocument: { _id: sequence },
  };
}

describe('tokens', () => {
  it('order as their parts do', () => {
    const part = fc.record({ major: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), minor: fc.nat({ max: 0xffffffff }), kind: fc.nat({ max: 0xff }) });
    fc.assert(
      fc.property(part, part, (a, b) => {
        const dataA = makeTokenData(a.major, a.minor, a.kind);
        const dataB = makeTokenData(b.major, b.minor, b.kind);
        expect(splitTokenData(dataA)).toEqual(a);
        const byParts = a.major !== b.major ? (a.major < b.major ? -1 : 1) : a.minor !== b.minor ? a.minor - b.minor : a.kind - b.kind;
        expect(dataA < dataB ? -1 : dataA > dataB ? 1 : 0).toBe(Math.sign(byParts));
      }),
    );
  });
});

describe('ChangeLog', () => {
  it('finds the position after any token, before and after trimming', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 500 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 40 }), fc.nat({ max: 520 }), (sequences, retain, probe) => {
        const sorted = [...sequences].sort((a, b) => a - b).map((sequence) => sequence + 1);
        const log = new ChangeLog({ retain });
        log.append(sorted.map((sequence) => record(sequence)));
        const token = makeTokenData(BigInt(probe), 0);
        const index = log.indexAfter(token);
        for (let position = log.start; position < log.end; position += 1) {
          const at = log.at(position) as ChangeRecord;
          expect(at.token > token).toBe(position >= index);
        }
        expect(log.end - log.start).toBeLessThanOrEqual(retain);
        expect(log.isLost(token)).toBe(token < log.origin);
        if (log.start === 0) expect(log.origin).toBe(ORIGIN_TOKEN_DATA);
      }),
    );
  });

  it('ignores records at or before its head, so sources may replay', () => {
    const log = new ChangeLog();
    log.append([record(1), record(2)]);
    log.append([record(2), record(1), record(3)]);
    expect(log.end).toBe(3);
    expect(log.headToken).toBe(record(3).token);
  });

  it('maps operation times to positions, and reports dropped times as lost', () => {
    const log = new ChangeLog({ retain: 4 });
    log.append([1, 2, 3].map((sequence) => record(sequence, sequence * 10)));
    expect(log.positionForTime({ t: 20, i: 0 })).toBe(record(1).token);
    expect(log.positionForTime({ t: 0, i: 0 })).toBe(ORIGIN_TOKEN_DATA);
    log.append([4, 5, 6, 7, 8].map((sequence) => record(sequence, sequence * 10)));
    expect(log.positionForTime({ t: 0, i: 0 })).toBeUndefined();
    expect(log.positionForTime({ t: 75, i: 0 })).toBe(record(7).token);
  });

  it('bounds its memory by retained changes, not by total appends', () => {
    const log = new ChangeLog({ retainChanges: 100 });
    for (let sequence = 1; sequence <= 20_000; sequence += 1) log.append([record(sequence)]);
    expect(log.length).toBe(100);
    expect(log.start).toBe(19_900);
    expect(log.at(19_899)).toBeUndefined();
    expect(log.at(19_900)?.token).toBe(record(19_901).token);
    expect(log.origin).toBe(record(19_900).token);
    expect(log.isLost(record(19_899).token)).toBe(true);
    expect(log.isLost(record(19_900).token)).toBe(false);
    expect(log.indexAfter(record(19_950).token)).toBe(19_950);
    expect(log.indexAfter(record(19_950).token, 19_950)).toBe(19_950);
    expect(log.indexAfter(record(19_950).token, 19_960)).toBe(19_950);
    expect(log.indexAfter(record(19_900).token, 19_900)).toBe(19_900);
    expect(log.indexAfter(record(19_899).token, 19_900)).toBe(19_900);
  });

  it('trims by estimated bytes, always keeping the newest change', () => {
    const big = (sequence: number): ChangeRecord => ({ ...record(sequence), fullDocument: { _id: sequence, payload: 'x'.repeat(1000) } });
    const log = new ChangeLog({ retainBytes: 5000 });
    log.append([1, 2, 3, 4, 5, 6, 7, 8].map(big));
    expect(log.retainedBytes).toBeLessThanOrEqual(5000);
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(log.length).toBeLessThan(8);
    expect(log.isLost(record(1).token)).toBe(true);
    const tiny = new ChangeLog({ retainBytes: 10 });
    tiny.append([big(1), big(2)]);
    expect(tiny.length).toBe(1);
    expect(tiny.headToken).toBe(record(2).token);
  });

  it('trims changes older than retainMs by wall time', () => {
    const log = new ChangeLog({ retainMs: 60_000 });
    const now = Math.floor(Date.now() / 1000);
    log.append([1, 2, 3].map((sequence) => record(sequence, now - 3600 + sequence)));
    log.append([4, 5].map((sequence) => record(sequence, now)));
    expect(log.length).toBe(2);
    expect(log.origin).toBe(record(3).token);
    expect(log.positionForTime({ t: 0, i: 0 })).toBeUndefined();
    expect(() => new ChangeLog({ retainChanges: 0 })).toThrow(RangeError);
  });

  it('wakes a waiter when a record arrives, and on timeout', async () => {
    const log = new ChangeLog();
    const controller = new AbortController();
    const waiting = log.waitFor(0, controller.signal, 10_000);
    log.append([record(1)]);
    await waiting;
    await log.waitFor(5, controller.signal, 10);
    expect(log.end).toBe(1);
  });
});

describe('renderEvent', () => {
  it('refuses required images that are missing with NoMatchingDocument', () => {
    const update: ChangeRecord = { ...record(1), operationType: 'update', fullDocument: null, fullDocumentBeforeChange: null };
    expect(() => renderEvent(update, { fullDocument: 'required' }, undefined)).toThrow(expect.objectContaining({ code: ErrorCode.NoMatchingDocument }));
    expect(() => renderEvent(update, { fullDocumentBeforeChange: 'required' }, undefined)).toThrow(expect.objectContaining({ code: ErrorCode.NoMatchingDocument }));
    expect(renderEvent(update, { fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' }, undefined)).toMatchObject({ fullDocument: null, fullDocumentBeforeChange: null });
  });
});
