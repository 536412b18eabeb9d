#!/usr/bin/env node
// Runs the monorepo's tests with vitest and turns its JSON report into one verdict.
//
//   node tooling/test-runner/run.mjs [vitest args...]     e.g. `pnpm test -- --project jsonrpc`
//
// Humans get vitest's default reporter; the JSON reporter writes .vitest-report.json at the
// repository root. The last line printed is always `N passed, N failed`.
// Exit status is non-zero when a test or a test file failed, when vitest exited with an error
// or wrote no report, and — with CI set — when any test was skipped, pending or todo.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const reportPath = join(repoRoot, '.vitest-report.json');
const inCi = isTruthy(process.env.CI);
const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);

function isTruthy(value) {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Arguments meant for vitest; pnpm may hand over the `--` separator itself. */
function forwardedArgs() {
  const args = process.argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}

function vitestEntry() {
  const require = createRequire(join(repoRoot, 'package.json'));
  const manifestPath = require.resolve('vitest/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.vitest;
  return join(dirname(manifestPath), bin);
}

function runVitest(args) {
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      [
        vitestEntry(),
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${reportPath}`,
        ...args,
      ],
      { cwd: repoRoot, stdio: 'inherit' },
    );
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`test-runner: could not start vitest: ${error.message}`);
      resolvePromise({ code: 1, signal: null });
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolvePromise({ code, signal });
    });
  });
}

function readReport() {
  try {
    return JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch {
    return undefined;
  }
}

function describe(file, test) {
  const name = test.fullName || [...(test.ancestorTitles ?? []), test.title].join(' ');
  return `${relative(repoRoot, file.name)} > ${name}`;
}

/** Tallies the report; a test file that failed outside any test (import error, hook) counts as one failure. */
function summarise(report) {
  let passed = 0;
  let failed = 0;
  const notRun = [];
  const failures = [];
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    let fileFailures = 0;
    for (const test of tests) {
      if (test.status === 'passed') passed += 1;
      else if (test.status === 'failed') {
        failed += 1;
        fileFailures += 1;
        failures.push(describe(file, test));
      } else if (NOT_RUN.has(test.status)) notRun.push(`${describe(file, test)} (${test.status})`);
    }
    if (file.status === 'failed' && fileFailures === 0) {
      failed += 1;
      const reason = (file.message || 'failed outside any test').split('\n')[0];
      failures.push(`${relative(repoRoot, file.name)}: ${reason}`);
    }
  }
  return { passed, failed, notRun, failures };
}

rmSync(reportPath, { force: true });
const { code, signal } = await runVitest(forwardedArgs());
const report = readReport();

console.log('');
if (report === undefined) {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  console.log(`test-runner: vitest ${how} and wrote no report (${relative(repoRoot, reportPath)}); counting the run as failed.`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const { passed, failed, notRun, failures } = summarise(report);
let exitCode = failed > 0 ? 1 : 0;

if (failures.length > 0) {
  console.log(`Failed (${failures.length}):`);
  for (const line of failures) console.log(`  ✘ ${line}`);
}
if (notRun.length > 0) {
  const verdict = inCi ? 'not allowed with CI set' : 'allowed outside CI';
  console.log(`Not run (${notRun.length}, ${verdict}):`);
  for (const line of notRun) console.log(`  - ${line}`);
  if (inCi) exitCode = 1;
}
if (exitCode === 0 && (code !== 0 || signal !== null)) {
  // Vitest also fails a run for unhandled errors and for finding no test files; those are not in the report.
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  console.log(`test-runner: vitest ${how} although no test failed (unhandled error or no test files; see above).`);
  exitCode = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);
