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
      // Bundled CommonJS dependencies (ws) still need `require`.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'rt-jsonrpc-readme-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'quick-start.mjs');
    writeFileSync(file, result.outputFiles[0]?.text ?? '');
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    onTestFinished(() => spy.mockRestore());
    await import(pathToFileURL(file).href);
    expect(lines[0]).toEqual([3]);
    expect(lines[1]).toEqual(['hello ada']);
    const results = lines[2]?.[0] as unknown[];
    expect(results[0]).toBe(30);
    expect(results[1]).toMatchObject({ code: -32000, message: 'division by zero', data: { a: 1, b: 0 } });
  });
});
