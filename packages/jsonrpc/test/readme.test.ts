import { fileURLToPath } from 'node:url';
import { runReadmeQuickStart } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('runs the quick start as written', async () => {
    const lines = await runReadmeQuickStart({ packageDir });
    expect(lines[0]).toEqual([3]);
    expect(lines[1]).toEqual(['hello ada']);
    const results = lines[2]?.[0] as unknown[];
    expect(results[0]).toBe(30);
    expect(results[1]).toMatchObject({ code: -32000, message: 'division by zero', data: { a: 1, b: 0 } });
  });
});
