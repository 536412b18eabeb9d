import { fileURLToPath } from 'node:url';
import { bundleForBrowser, nodeBuiltinImports } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';

describe('the client entry in a browser bundle', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const text = await bundleForBrowser(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
    expect(text).toContain('DDPClient');
    expect(nodeBuiltinImports(text, ['ws'])).toEqual([]);
  });

  it('refuses to bundle the server entry for the browser (it is Node only)', async () => {
    await expect(bundleForBrowser(fileURLToPath(new URL('../src/server/index.ts', import.meta.url)))).rejects.toThrow();
  });
});
