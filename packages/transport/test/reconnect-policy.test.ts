import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../src/index.js';

describe('ReconnectPolicy', () => {
  it('grows exponentially up to the cap, within the jitter band', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1000, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (initialDelayMs, maxDelayMs, jitter, attempt, random) => {
          const policy = new ReconnectPolicy({ initialDelayMs, maxDelayMs, jitter, random: () => random });
          const full = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
          const delay = policy.delayFor(attempt);
          expect(delay).toBeLessThanOrEqual(Math.round(full));
          expect(delay).toBeGreaterThanOrEqual(Math.floor(full * (1 - jitter)) - 1);
        },
      ),
    );
  });

  it('is deterministic without jitter and honours maxAttempts', () => {
    const policy = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0, maxAttempts: 3 });
    expect([1, 2, 3, 4, 5].map((attempt) => policy.delayFor(attempt))).toEqual([100, 200, 400, 800, 1000]);
    expect([policy.canRetry(3), policy.canRetry(4)]).toEqual([true, false]);
  });

  it('rejects inconsistent options', () => {
    expect(() => new ReconnectPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ factor: 0.5 })).toThrow(RangeError);
  });
});
