import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Chapter } from './chapter.js';

const chaptersDir = new URL('./chapters/', import.meta.url);

/** The tour's storyline: these come first, in this order; any other chapter follows alphabetically. */
export const CHAPTER_ORDER = ['transport', 'jsonrpc', 'wamp', 'ddp', 'rooms', 'changestream'];

/** Chapter files' base names (`transport` for `transport.ts`) in tour order. */
export function listChapterFiles(): string[] {
  const names = readdirSync(chaptersDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
    .map((name) => basename(name, '.ts'));
  const rank = (name: string): number => {
    const index = CHAPTER_ORDER.indexOf(name);
    return index === -1 ? CHAPTER_ORDER.length : index;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function isChapter(value: unknown): value is Chapter {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Chapter>;
  return typeof candidate.title === 'string' && typeof candidate.run === 'function';
}

/** Imports a chapter file; throws when it does not load or exports no `chapter`. */
export async function loadChapter(file: string): Promise<Chapter> {
  const path = fileURLToPath(new URL(`${file}.ts`, chaptersDir));
  const module = (await import(pathToFileURL(path).href)) as { chapter?: unknown };
  if (!isChapter(module.chapter)) throw new Error(`chapters/${file}.ts does not export \`chapter: Chapter\``);
  return module.chapter;
}
