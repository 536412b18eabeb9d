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
    expect(text).toContain('ChangeStreamClient');
    expect(text).not.toMatch(/from\s+["']node:|require\(["'](node:)?(http|net|crypto|fs|ws|zlib)["']\)/);
    expect(text).not.toContain('mingo');
  });
});
