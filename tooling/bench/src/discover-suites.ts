import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchSuite } from './bench-types.js';

const suitesDir = new URL('./suites/', import.meta.url);

/** A suite file found in `src/suites/`, loaded or with the error that stopped it loading. */
export type LoadedSuite =
  | { file: string; suite: BenchSuite; error?: undefined }
  | { file: string; suite?: undefined; error: Error };

/** The suite files' base names (`transport` for `transport.ts`), sorted. */
export function listSuiteFiles(): string[] {
  return readdirSync(suitesDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
    .map((name) => basename(name, '.ts'))
    .sort();
}

function isBenchSuite(value: unknown): value is BenchSuite {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<BenchSuite>;
  return typeof candidate.name === 'string' && Array.isArray(candidate.scenarios);
}

/** Imports one suite file; a file that throws or exports no `suite` comes back with its error. */
export async function loadSuite(file: string): Promise<LoadedSuite> {
  try {
    const module = (await import(pathToFileURL(new URL(`${file}.ts`, suitesDir).pathname).href)) as { suite?: unknown };
    if (!isBenchSuite(module.suite)) throw new Error('it does not export `suite: BenchSuite`');
    return { file, suite: module.suite };
  } catch (error) {
    return { file, error: error instanceof Error ? error : new Error(String(error)) };
  }
}
