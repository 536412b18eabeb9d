import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultProxy, withTeardown } from '../src/index.js';
import { connectRaw, startRawServer } from './support/raw-socket.js';

describe('FaultProxy byte stream (property)', () => {
  it('any chunking, with stalls and delays switched on and off, arrives byte-identical and in order', async () => {
    const server = await withTeardown(startRawServer({ echo: true }), (s) => s.close());
    const proxy = await withTeardown(FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } }), (p) => p.close());
    const step = fc.record({
      bytes: fc.uint8Array({ minLength: 1, maxLength: 2048 }),
      fault: fc.constantFrom('none', 'none', 'stall', 'resume', 'delay', 'no-delay'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const client = await connectRaw(proxy.port);
        try {
          for (const { bytes, fault } of steps) {
            if (fault === 'stall') proxy.stall();
            if (fault === 'resume') proxy.resume();
            if (fault === 'delay') proxy.setDelay(2);
            if (fault === 'no-delay') proxy.setDelay(0);
            client.socket.write(bytes);
          }
          proxy.resume();
          const expected = Buffer.concat(steps.map((s) => s.bytes));
          const echoed = await client.waitForBytes(expected.length);
          expect(echoed.equals(expected)).toBe(true);
        } finally {
          proxy.clearFaults();
          client.socket.destroy();
        }
      }),
      { numRuns: 60 },
    );
  });
});
