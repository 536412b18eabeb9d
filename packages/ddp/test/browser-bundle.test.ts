import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the client entry in a browser bundle', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['@rt/source', 'browser'],
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const text = result.outputFiles[0]?.text ?? '';
    expect(text).toContain('DDPClient');
    expect(text).not.toMatch(/from\s+["']node:|require\(["'](node:)?(http|net|crypto|fs|ws)["']\)/);
  });

  it('refuses to bundle the server entry for the browser (it is Node only)', async () => {
    await expect(
      build({
        entryPoints: [fileURLToPath(new URL('../src/server/index.ts', import.meta.url))],
        bundle: true,
        write: false,
        platform: 'browser',
        conditions: ['@rt/source', 'browser'],
        logLevel: 'silent',
      }),
    ).rejects.toThrow();
  });
});
