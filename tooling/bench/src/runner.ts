import { performance } from 'node:perf_hooks';
import type { BenchScenario, BenchTarget } from './bench-types.js';

/** How long and how often each case is measured. */
export interface RunnerOptions {
  /** Warm-up time per case before measuring; also calibrates how many batches fill a round. */
  warmupMs: number;
  /** Measured rounds; each round runs every case once, in a rotating order. */
  rounds: number;
  /** Target duration of one case's turn within a round. */
  roundMs: number;
  /** A single `run()` taking longer than this fails the scenario instead of hanging the run. */
  batchTimeoutMs: number;
}

export const defaultRunnerOptions: RunnerOptions = {
  warmupMs: 300,
  rounds: 7,
  roundMs: 400,
  batchTimeoutMs: 30_000,
};

/** The measurement of one case. */
export interface CaseResult {
  name: string;
  /** Median ops/s over the rounds. */
  median: number;
  /** Every round's ops/s, in round order. */
  samples: number[];
  /**
   * Median over the rounds of this case's ops/s divided by the baseline's in the same round.
   * Pairing by round keeps load changes on a shared machine out of the ratio.
   */
  ratio: number;
  extra: Record<string, string | number>;
}

/** Progress lines (warm-up, rounds) go here, so the tables stay clean. */
export type ProgressLog = (line: string) => void;

interface Prepared {
  name: string;
  target: BenchTarget;
  batchesPerRound: number;
  samples: number[];
}

/** Middle value of `values` (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function runBatch(target: BenchTarget, timeoutMs: number, caseName: string): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${caseName}: one batch took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ops = await Promise.race([target.run(), timeout]);
    if (!Number.isFinite(ops) || ops <= 0) throw new Error(`${caseName}: run() resolved ${ops}, expected a positive count`);
    return ops;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `batches` batches back to back and returns ops/s. */
async function measure(prepared: Prepared, batches: number, options: RunnerOptions): Promise<number> {
  let ops = 0;
  const start = performance.now();
  for (let i = 0; i < batches; i += 1) ops += await runBatch(prepared.target, options.batchTimeoutMs, prepared.name);
  const seconds = (performance.now() - start) / 1000;
  return ops / seconds;
}

/** Warms a case up and works out how many batches take about `roundMs`. */
async function calibrate(prepared: Prepared, options: RunnerOptions): Promise<void> {
  let batches = 0;
  const start = performance.now();
  while (batches < 3 || performance.now() - start < options.warmupMs) {
    await runBatch(prepared.target, options.batchTimeoutMs, prepared.name);
    batches += 1;
  }
  const batchMs = (performance.now() - start) / batches;
  prepared.batchesPerRound = Math.max(1, Math.round(options.roundMs / batchMs));
}

/**
 * Sets up every case of `scenario`, warms each up, then measures them in interleaved rounds so that
 * drift on a shared machine hits every case alike. Always tears down what was set up.
 */
export async function runScenario(
  scenario: BenchScenario,
  options: RunnerOptions,
  progress: ProgressLog,
): Promise<CaseResult[]> {
  if (!scenario.cases.some((c) => c.name === scenario.baseline)) {
    throw new Error(`baseline "${scenario.baseline}" is not one of the cases`);
  }
  const prepared: Prepared[] = [];
  try {
    for (const benchCase of scenario.cases) {
      progress(`setting up ${benchCase.name}`);
      prepared.push({ name: benchCase.name, target: await benchCase.setup(), batchesPerRound: 1, samples: [] });
    }
    for (const entry of prepared) {
      progress(`warming up ${entry.name}`);
      await calibrate(entry, options);
    }
    for (let round = 0; round < options.rounds; round += 1) {
      progress(`round ${round + 1}/${options.rounds}`);
      for (let i = 0; i < prepared.length; i += 1) {
        const entry = prepared[(i + round) % prepared.length]!;
        entry.samples.push(await measure(entry, entry.batchesPerRound, options));
      }
    }
    const baseline = prepared.find((entry) => entry.name === scenario.baseline)!.samples;
    return prepared.map((entry) => ({
      name: entry.name,
      median: median(entry.samples),
      samples: entry.samples,
      ratio: median(entry.samples.map((sample, round) => sample / baseline[round]!)),
      extra: entry.target.extra?.() ?? {},
    }));
  } finally {
    for (const entry of prepared.reverse()) {
      try {
        await entry.target.teardown();
      } catch (error) {
        progress(`teardown of ${entry.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
