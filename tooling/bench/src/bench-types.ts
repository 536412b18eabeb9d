/**
 * The shapes a benchmark suite exports. Every file in `src/suites/` exports `suite: BenchSuite`;
 * the runner discovers them at run time.
 */

/** A case set up and ready to measure. */
export interface BenchTarget {
  /** Does one batch of operations and resolves the number of operations done; ops/s is timed around it. */
  run(): Promise<number>;
  /** Releases everything `setup()` acquired (servers, sockets, timers). */
  teardown(): Promise<void>;
  /** Extra columns for the results table, read once after the measured rounds. */
  extra?(): Record<string, string | number>;
}

/** One contender in a scenario. */
export interface BenchCase {
  name: string;
  setup(): Promise<BenchTarget>;
}

/** Cases measured side by side; each is reported as a ratio against the `baseline` case. */
export interface BenchScenario {
  name: string;
  /** What one operation is, e.g. `msg` or `call`; the table reports `<unit>/s`. */
  unit: string;
  /** The name of the case the others are compared with. */
  baseline: string;
  cases: BenchCase[];
}

/** A named group of scenarios, usually one per package. */
export interface BenchSuite {
  name: string;
  scenarios: BenchScenario[];
}
