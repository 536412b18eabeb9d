import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listChapterFiles, loadChapter } from './discover-chapters.js';

const DEFAULT_TIMEOUT_MS = 60_000;
const usage = `Usage: pnpm demo [-- options] [chapter ...]
  chapter            run only these chapters (file names, e.g. transport jsonrpc)
  --timeout-ms <ms>  time limit per chapter (default ${DEFAULT_TIMEOUT_MS})`;

interface Outcome {
  file: string;
  ok: boolean;
}

/** Errors nobody awaited while a chapter runs fail that chapter instead of killing the tour. */
let reportStray: ((error: unknown) => void) | undefined;
function onStray(error: unknown): void {
  if (reportStray) reportStray(error);
  else console.error(`\nunexpected error outside any chapter: ${describe(error)}`);
}
process.on('unhandledRejection', onStray);
process.on('uncaughtException', onStray);

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

function indent(line: string): string {
  return line
    .split('\n')
    .map((part) => `    ${part}`)
    .join('\n');
}

/** Loads and runs one chapter under a time limit; resolves whether it succeeded. */
async function runChapter(file: string, index: number, timeoutMs: number): Promise<boolean> {
  const started = performance.now();
  let title = file;
  let timer: NodeJS.Timeout | undefined;
  try {
    const chapter = await loadChapter(file);
    title = chapter.title;
    console.log(`\n━━ ${index}. ${title} ━━`);
    const failure = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      reportStray = (error) => reject(new Error(`unhandled error: ${describe(error)}`));
    });
    await Promise.race([chapter.run((line) => console.log(indent(line))), failure]);
    console.log(`  ✔ ${title} (${Math.round(performance.now() - started)} ms)`);
    return true;
  } catch (error) {
    if (title === file) console.log(`\n━━ ${index}. ${file} ━━`);
    console.log(`  ✘ ${title}: ${describe(error)}`);
    if (process.env.DEMO_DEBUG && error instanceof Error && error.stack) console.log(indent(error.stack));
    return false;
  } finally {
    clearTimeout(timer);
    reportStray = undefined;
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv[2] === '--' ? process.argv.slice(3) : process.argv.slice(2),
    options: { 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const timeoutMs = values['timeout-ms'] === undefined ? DEFAULT_TIMEOUT_MS : Number(values['timeout-ms']);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout-ms expects a positive number`);

  const available = listChapterFiles();
  const unknown = positionals.filter((name) => !available.includes(name));
  if (unknown.length > 0) throw new Error(`no chapter named ${unknown.join(', ')} (have: ${available.join(', ')})`);
  const files = positionals.length > 0 ? available.filter((name) => positionals.includes(name)) : available;

  console.log(`rt — a guided tour: real servers on loopback, real clients, ${files.length} chapter(s)`);
  const outcomes: Outcome[] = [];
  for (const [i, file] of files.entries()) outcomes.push({ file, ok: await runChapter(file, i + 1, timeoutMs) });

  const failed = outcomes.filter((outcome) => !outcome.ok);
  console.log('');
  if (failed.length === 0) console.log(`✔ all ${outcomes.length} chapter(s) passed`);
  else console.log(`✘ ${failed.length} of ${outcomes.length} chapter(s) failed: ${failed.map((outcome) => outcome.file).join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

const exitCode = await main().catch((error: unknown) => {
  console.error(describe(error));
  console.error(usage);
  return 2;
});
// Exit explicitly: a chapter that timed out may still hold sockets open.
process.exit(exitCode);
