import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/**
 * What a peer check reports: `true`/`false`, or an object that also says why the peer is
 * missing (printed when a test is skipped, and put in the error in CI).
 */
export type PeerCheckResult = boolean | { available: boolean; reason?: string };

/** A check for one external peer. Throwing counts as "missing", with the error message as the reason. */
export type PeerCheck = () => PeerCheckResult | Promise<PeerCheckResult>;

/** The Debian Python every Python peer must run with (the `python3` on PATH cannot see Debian's modules). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** True when `process.env.CI` is set to anything but an empty string, `0` or `false`. */
export function isCI(): boolean {
  const value = process.env['CI'];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Decide whether an interop test can run against an external peer.
 *
 * - The check passes: resolves `true`.
 * - It fails and `process.env.CI` is set: rejects with an `Error` saying the peer is missing
 *   in CI (a missing peer must fail CI, never silently skip).
 * - It fails outside CI: prints `[skip] <name>: <why>` to stderr and resolves `false`.
 *
 * @example
 * ```ts
 * const available = await peerAvailable('aiorpcx', hasPython3Module('aiorpcx'));
 * describe.skipIf(!available)('interop with aiorpcx', () => { ... });
 * ```
 *
 * @param name - the peer's name as printed (e.g. `python3-aiorpcx`)
 * @param check - the test for its presence
 */
export async function peerAvailable(name: string, check: PeerCheck): Promise<boolean> {
  let available: boolean;
  let reason: string | undefined;
  try {
    const result = await check();
    if (typeof result === 'boolean') available = result;
    else ({ available, reason } = result);
  } catch (error) {
    available = false;
    reason = error instanceof Error ? error.message : String(error);
  }
  if (available) return true;
  const why = reason ?? 'the availability check failed';
  if (isCI()) {
    throw new Error(`interop peer "${name}" is missing in CI (CI is set, so this fails instead of skipping): ${why}`);
  }
  process.stderr.write(`[skip] ${name}: ${why}\n`);
  return false;
}

/**
 * A check that passes when `/usr/bin/python3 -c "import <module>"` succeeds.
 *
 * @param module - the Python module, e.g. `aiorpcx`, `websockets`, `autobahn.asyncio`
 */
export function hasPython3Module(module: string): PeerCheck {
  return () => {
    if (!/^[A-Za-z_][\w.]*$/.test(module)) return { available: false, reason: `"${module}" is not a Python module name` };
    const result = spawnSync(DEBIAN_PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 20_000 });
    if (result.error) return { available: false, reason: `cannot run ${DEBIAN_PYTHON}: ${result.error.message}` };
    if (result.status === 0) return true;
    const lastLine = result.stderr.trim().split('\n').at(-1) ?? '';
    return { available: false, reason: `${DEBIAN_PYTHON} cannot import ${module}: ${lastLine}` };
  };
}

/**
 * A check that passes when `command` is an executable file. A bare name is looked up on PATH.
 *
 * @param command - an absolute path (e.g. `/usr/lib/postgresql/15/bin/initdb`) or a command name
 */
export function hasCommand(command: string): PeerCheck {
  return () => {
    const candidates = command.includes('/')
      ? [command]
      : (process.env['PATH'] ?? '').split(':').filter(Boolean).map((dir) => `${dir}/${command}`);
    for (const candidate of candidates) {
      try {
        accessSync(candidate, constants.X_OK);
        return true;
      } catch {
        // not this one
      }
    }
    return { available: false, reason: `${command} is not installed (no executable found)` };
  };
}

/** A check that passes when every given check passes; the first failure's reason is reported. */
export function allOf(...checks: PeerCheck[]): PeerCheck {
  return async () => {
    for (const check of checks) {
      const result = await check();
      const ok = typeof result === 'boolean' ? result : result.available;
      if (!ok) return result;
    }
    return true;
  };
}
