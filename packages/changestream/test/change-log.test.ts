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
