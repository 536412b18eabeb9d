const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // the process is exiting: nothing sensible is left to do with the error
    }
  }
}

/**
 * Run `cleanup` synchronously when the Node process exits, unless the returned function is
 * called first. Used to kill peer processes and stop databases a test forgot to stop; only
 * synchronous work (signals, `spawnSync`, `rmSync`) can run at that point.
 *
 * @param cleanup - synchronous cleanup
 * @returns a function that withdraws the registration
 */
export function registerExitCleanup(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', runAll);
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
