/** The parts of vitest the teardown helpers use. */
interface VitestApi {
  onTestFinished(fn: () => Promise<void>): void;
  afterAll(fn: () => Promise<void>): void;
  getCurrentTest(): unknown;
  /** The file being collected or run; `result` is set once it runs. */
  currentFile(): { result?: unknown } | undefined;
  /** Add an afterAll hook to a file that is already running. */
  addFileAfterAll(file: object, fn: () => Promise<void>): void;
}

async function loadVitest(): Promise<VitestApi> {
  const api = await import('vitest');
  const runner = api.TestRunner;
  return {
    onTestFinished: (fn) => api.onTestFinished(fn),
    afterAll: (fn) => api.afterAll(fn),
    getCurrentTest: () => runner.getCurrentTest(),
    currentFile: () => runner.getCurrentSuite().file,
    addFileAfterAll: (file, fn) =>
      runner.getSuiteHooks(file as Parameters<typeof runner.getSuiteHooks>[0]).afterAll.push(fn),
  };
}

// vitest is an optional peer: it is loaded only inside a vitest worker (which sets VITEST),
// so the launchers can be used from plain Node (the demo) without it.
const vitest: VitestApi | undefined = process.env['VITEST'] ? await loadVitest() : undefined;

/** Something to run at teardown; its promise is awaited. */
export type TeardownFn = () => unknown;

/**
 * Run `fn` when the current test finishes (vitest `onTestFinished`, also from `beforeEach`);
 * when called while a file is being collected (a `describe` body, the top of a test file),
 * after that suite (`afterAll`); when called from `beforeAll`, after the whole test file.
 * Teardowns registered inside a test run in reverse order of registration.
 *
 * @param fn - the teardown; may return a promise
 * @throws Error when not running under vitest
 */
export function useTeardown(fn: TeardownFn): void {
  if (!vitest) throw new Error('useTeardown() works only inside a vitest run (process.env.VITEST is not set)');
  const run = async (): Promise<void> => {
    await fn();
  };
  if (vitest.getCurrentTest() !== undefined) {
    vitest.onTestFinished(run);
    return;
  }
  const file = vitest.currentFile();
  if (file?.result !== undefined) {
    // Running, but outside a test (beforeAll): vitest has no hook for the running suite,
    // so the teardown joins the file's afterAll hooks.
    vitest.addFileAfterAll(file, run);
    return;
  }
  vitest.afterAll(run);
}

/**
 * Await a resource, register its teardown with {@link useTeardown}, and return it.
 *
 * @example
 * ```ts
 * const proxy = await withTeardown(FaultProxy.start({ target }), (p) => p.close());
 * ```
 *
 * @param resource - the resource or the promise of it
 * @param dispose - how to release it
 */
export async function withTeardown<T>(resource: T | Promise<T>, dispose: (value: T) => unknown): Promise<T> {
  const value = await resource;
  useTeardown(() => dispose(value));
  return value;
}

/**
 * Turn a start function into one whose every result is torn down automatically.
 *
 * @example
 * ```ts
 * const startProxy = serverFactory(FaultProxy.start, (p) => p.close());
 * it('cuts', async () => { const proxy = await startProxy({ target }); ... });
 * ```
 *
 * @param start - starts a server (or any resource)
 * @param dispose - how to release one
 */
export function serverFactory<A extends unknown[], T>(
  start: (...args: A) => T | Promise<T>,
  dispose: (value: T) => unknown,
): (...args: A) => Promise<T> {
  return (...args: A) => withTeardown(start(...args), dispose);
}
