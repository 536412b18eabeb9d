import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The first TypeScript block of the README: the quick start. */
function quickStart(): string {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('the README has no ts code block');
  return match[1];
}

describe('README', () => {
  it('runs the quick start as written', async () => {
    const result = await build({
      stdin: { contents: quickStart(), loader: 'ts', resolveDir: packageDir, sourcefile: 'quick-start.ts' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      conditions: ['@rt/source'],
      // Database drivers are loaded only by their sources, which the quick start does not use.
      external: ['pg', 'pg-logical-replication', 'ioredis'],
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'rt-changestream-readme-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'quick-start.mjs');
    writeFileSync(file, result.outputFiles[0]?.text ?? '');
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    onTestFinished(() => spy.mockRestore());
    await import(pathToFileURL(file).href);
    expect(lines[0]).toEqual(['insert', { _id: 1, item: 'lamp' }]);
    expect(lines[1]?.[0]).toBe('resume later with');
    expect(lines[1]?.[1]).toMatchObject({ _data: expect.stringMatching(/^[0-9a-f]{26}$/) });
  });
});
