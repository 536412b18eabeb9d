import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { listSuiteFiles, loadSuite } from './discover-suites.js';
import { defaultRunnerOptions, runScenario, type RunnerOptions } from './runner.js';
import { formatResultsTable } from './table.js';

const usage = `Usage: pnpm bench [-- options]
  --suite <name>       only this suite (file name or suite name); repeatable
  --scenario <text>    only scenarios whose name contains <text>; repeatable
  --rounds <n>         measured rounds per scenario (default ${defaultRunnerOptions.rounds})
  --round-ms <ms>      time per case per round (default ${defaultRunnerOptions.roundMs})
  --warmup-ms <ms>     warm-up per case (default ${defaultRunnerOptions.warmupMs})`;

function positiveNumber(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} expects a positive number, got "${text}"`);
  return value;
}

function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      suite: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      'round-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const runner: RunnerOptions = {
    ...defaultRunnerOptions,
    rounds: Math.round(positiveNumber('--rounds', values.rounds, defaultRunnerOptions.rounds)),
    roundMs: positiveNumber('--round-ms', values['round-ms'], defaultRunnerOptions.roundMs),
    warmupMs: positiveNumber('--warmup-ms', values['warmup-ms'], defaultRunnerOptions.warmupMs),
  };
  return { suites: values.suite ?? [], scenarios: values.scenario ?? [], runner, help: values.help === true };
}

function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  if (options.help) {
    console.log(usage);
    return 0;
  }
  const files = listSuiteFiles();
  const cpuList = cpus();
  console.log(`# rt benchmarks`);
  console.log('');
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}, ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}, ${new Date().toISOString()}`);
  console.log(`${options.runner.rounds} interleaved rounds of ~${options.runner.roundMs} ms per case after ${options.runner.warmupMs} ms warm-up; median shown.`);

  let failures = 0;
  let ranScenarios = 0;
  // Filter on file names first so a broken suite that was not asked for is never loaded;
  // when no file name matches, load them all and match on the suites' own names.
  const byFile = options.suites.length === 0 ? files : files.filter((file) => options.suites.includes(file));
  const matchByName = options.suites.length > 0 && byFile.length === 0;
  for (const file of matchByName ? files : byFile) {
    const loaded = await loadSuite(file);
    if (loaded.error !== undefined) {
      if (matchByName) {
        progress(`skipping suites/${file}.ts, which does not load: ${loaded.error.message}`);
        continue;
      }
      failures += 1;
      console.log(`\n## ${file}\n\n✘ could not load suites/${file}.ts: ${loaded.error.message}`);
      continue;
    }
    const suite = loaded.suite;
    if (matchByName && !options.suites.includes(suite.name)) continue;
    for (const scenario of suite.scenarios) {
      if (options.scenarios.length > 0 && !options.scenarios.some((text) => scenario.name.includes(text))) continue;
      ranScenarios += 1;
      console.log(`\n## ${suite.name}: ${scenario.name}\n`);
      try {
        const results = await runScenario(scenario, options.runner, progress);
        console.log(formatResultsTable(scenario.unit, scenario.baseline, results));
      } catch (error) {
        failures += 1;
        console.log(`✘ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }
  if (ranScenarios === 0 && failures === 0) {
    console.log(`\nNo scenario matched. Suites: ${files.join(', ') || '(none)'}`);
    return 1;
  }
  if (failures > 0) console.log(`\n✘ ${failures} suite(s) or scenario(s) failed`);
  return failures > 0 ? 1 : 0;
}

const exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(usage);
  return 1;
});
// Exit explicitly: a suite that leaks a handle must not keep the run alive after its table is printed.
process.exit(exitCode);
