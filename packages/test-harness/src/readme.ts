import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The fenced code blocks of a Markdown file written in `language`, in order.
 *
 * @param path - the Markdown file (e.g. a package's README.md)
 * @param language - the fence's info string (default `ts`)
 */
export async function readmeCodeBlocks(path: string, language = 'ts'): Promise<string[]> {
  const markdown = await readFile(path, 'utf8');
  const blocks: string[] = [];
  for (const match of markdown.matchAll(/```([\w-]*)[^\n]*\n([\s\S]*?)```/g)) {
    if (match[1] === language) blocks.push(match[2] ?? '');
  }
  return blocks;
}

/** Options of {@link runReadmeQuickStart}. */
export interface ReadmeQuickStartOptions {
  /** The package's directory: its README.md is read and the code's imports resolve from here. */
  packageDir: string;
  /** Which `ts` block to run (default 0, the first: the quick start). */
  block?: number;
  /** Modules left out of the bundle, imported at run time instead (e.g. unused database drivers). */
  external?: readonly string[];
}

/**
 * Run a package README's quick start as written: bundle its first `ts` block for Node with
 * esbuild (an optional peer dependency; workspace packages through their `@rt/source`
 * condition), import it from a temporary directory, and collect what it passed to
 * `console.log` until its top-level code settles.
 *
 * @example
 * ```ts
 * const lines = await runReadmeQuickStart({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
 * expect(lines[0]).toEqual([3]);
 * ```
 *
 * @returns the arguments of each `console.log` call, in order
 * @throws Error when the README has no such block, it does not compile, or running it throws
 */
export async function runReadmeQuickStart(options: ReadmeQuickStartOptions): Promise<unknown[][]> {
  const index = options.block ?? 0;
  const code = (await readmeCodeBlocks(join(options.packageDir, 'README.md')))[index];
  if (code === undefined) throw new Error(`${options.packageDir}/README.md has no ts code block #${index}`);
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: code, loader: 'ts', resolveDir: options.packageDir, sourcefile: 'quick-start.ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    conditions: ['@rt/source'],
    external: [...(options.external ?? [])],
    // Bundled CommonJS dependencies (ws) still need `require`.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const dir = await mkdtemp(join(tmpdir(), 'rt-readme-'));
  try {
    const file = join(dir, 'quick-start.mjs');
    await writeFile(file, result.outputFiles[0]?.text ?? '');
    const lines: unknown[][] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => {
      lines.push(args);
    };
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
    }
    return lines;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
