import { fileURLToPath } from 'node:url';
import { runReadmeQuickStart } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('runs the quick start as written', async () => {
    const lines = await runReadmeQuickStart({
      packageDir,
      // Database drivers are loaded only by their sources, which the quick start does not use.
      external: ['pg', 'pg-logical-replication', 'ioredis'],
    });
    expect(lines[0]).toEqual(['insert', { _id: 1, item: 'lamp' }]);
    expect(lines[1]?.[0]).toBe('resume later with');
    expect(lines[1]?.[1]).toMatchObject({ _data: expect.stringMatching(/^[0-9a-f]{26}$/) });
  });
});
