import { builtinModules } from 'node:module';

/** What to bundle: a module's path, or source text whose imports resolve from `resolveDir`. */
export type BrowserEntry = string | { contents: string; resolveDir: string };

/** Options of {@link bundleForBrowser}. */
export interface BrowserBundleOptions {
  /**
   * Export conditions besides `browser` (default `['@rt/source']`, so workspace packages are
   * bundled from their TypeScript sources and need no build first).
   */
  conditions?: readonly string[];
}

/**
 * Bundle an entry for the browser platform with esbuild (one ESM file, in memory). A Node
 * built-in anywhere in the import graph fails the build, as it would in a browser bundler.
 * esbuild is an optional peer dependency, loaded on the first call.
 *
 * @example
 * ```ts
 * const code = await bundleForBrowser(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
 * expect(nodeBuiltinImports(code)).toEqual([]);
 * ```
 *
 * @param entry - a module path, or `{ contents, resolveDir }` for TypeScript source text
 * @param options - extra export conditions
 * @returns the bundle's JavaScript
 * @throws Error from esbuild when something cannot be resolved or compiled
 */
export async function bundleForBrowser(entry: BrowserEntry, options: BrowserBundleOptions = {}): Promise<string> {
  const { build } = await import('esbuild');
  const input =
    typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts' as const, sourcefile: 'browser-entry.ts' } };
  const result = await build({
    ...input,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser', ...(options.conditions ?? ['@rt/source'])],
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild wrote no output file');
  return output.text;
}

// `from "x"`, `import "x"`, `import("x")` and `require("x")`, with either quote.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(["'])([^"'\n]+)\1/g;
const BUILTINS = new Set(builtinModules);

/**
 * The Node built-in modules a bundle still imports or requires (`node:*`, or a bare name such
 * as `fs` or `fs/promises`), plus any of `also` (e.g. `ws`), each listed once, in order of
 * appearance. A browser-safe bundle gives `[]`.
 *
 * @param code - bundled JavaScript
 * @param also - further module specifiers that must not appear
 */
export function nodeBuiltinImports(code: string, also: readonly string[] = []): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(SPECIFIER)) {
    const specifier = match[2] ?? '';
    const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
    const builtin = specifier.startsWith('node:') || BUILTINS.has(bare.split('/')[0] ?? '');
    if (builtin || also.includes(specifier)) found.add(specifier);
  }
  return [...found];
}
