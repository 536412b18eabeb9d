import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortError, AsyncQueue, ClosedError, TimeoutError } from '../src/index.js';

describe('AsyncQueue', () => {
  it('delivers every item in order, whatever the interleaving of pushes and takes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { maxLength: 60 }), async (script) => {
        const queue = new AsyncQueue<number>({ highWaterMark: 4 });
        let next = 0;
        // Each take keeps its own slot: the items a take receives must follow call order.
        const takes: Promise<number | undefined>[] = [];
        for (const push of script) {
          if (push) queue.push(next++);
          else takes.push(queue.shift());
        }
        queue.end();
        const taken = (await Promise.all(takes)).filter((item) => item !== undefined);
        for await (const item of queue) taken.push(item);
        expect(taken).toEqual(Array.from({ length: next }, (_, index) => index));
      }),
    );
  });

  it('signals backpressure at the high water mark and drains at half of it', async () => {
    let drains = 0;
    const queue = new AsyncQueue<number>({ highWaterMark: 4, onDrain: () => drains++ });
    expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual([true, true, true]);
    expect(queue.push(4)).toBe(false);
    const space = queue.waitForSpace();
    queue.tryShift();
    expect(drains).toBe(0);
    queue.tryShift();
    expect(drains).toBe(1);
    await space;
    expect(queue.size).toBe(2);
  });

  it('delivers buffered items after end, then finishes or throws the end error', async () => {
    const queue = new AsyncQueue<string>();
    queue.push('a');
    queue.end(new Error('boom'));
    await expect(queue.shift()).resolves.toBe('a');
    await expect(queue.shift()).rejects.toThrow('boom');
    expect(() => queue.push('b')).toThrow(ClosedError);
  });

  it('gives up a wait on abort or timeout without losing the next item', async () => {
    const queue = new AsyncQueue<number>();
    const controller = new AbortController();
    const aborted = queue.shift({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await expect(queue.shift({ timeoutMs: 5 })).rejects.toBeInstanceOf(TimeoutError);
    queue.push(7);
    await expect(queue.shift()).resolves.toBe(7);
  });
});
