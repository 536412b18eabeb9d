import { fileURLToPath } from 'node:url';
import { bundleForBrowser, nodeBuiltinImports } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';

describe('the client entry in a browser bundle', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const text = await bundleForBrowser(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
    expect(text).toContain('ChangeStreamClient');
    expect(nodeBuiltinImports(text, ['ws'])).toEqual([]);
    expect(text).not.toContain('mingo');
  });
});
