import { DEBIAN_PYTHON } from './peer-available.js';
import { startProcessPeer, type PeerProcess } from './process-peer.js';

/** Options of {@link startPythonPeer}. Give exactly one of `code` and `script`. */
export interface PythonPeerOptions {
  /** Python source run with `python3 -c`. */
  code?: string;
  /** Path of a Python file to run. */
  script?: string;
  /** Arguments after the code or script (`sys.argv[1:]`). */
  args?: readonly string[];
  /** Extra environment variables, merged over `process.env`. */
  env?: Record<string, string | undefined>;
  /** Working directory. */
  cwd?: string;
  /** Wait for a stdout line matching this, e.g. `/READY (\d+)/` to learn the port the peer listens on. */
  readyPattern?: RegExp;
  /** How long to wait for `readyPattern` (default 15 000 ms). */
  timeoutMs?: number;
}

/**
 * Start a Python peer with Debian's `/usr/bin/python3` (the `python3` on PATH is a separate
 * build that cannot import Debian's `python3-*` packages), unbuffered, and wait for its
 * ready line. The process is killed when the Node process exits, if still running.
 *
 * @example
 * ```ts
 * const peer = await startPythonPeer({
 *   code: `
 * import asyncio
 * async def main():
 *     server = await asyncio.start_server(lambda r, w: None, '127.0.0.1', 0)
 *     print('READY', server.sockets[0].getsockname()[1], flush=True)
 *     await server.serve_forever()
 * asyncio.run(main())`,
 *   readyPattern: /READY (\d+)/,
 * });
 * connectTcp({ host: '127.0.0.1', port: peer.port! });
 * ```
 *
 * @param options - what to run and how to know it is ready
 * @throws Error with the captured stderr when the peer exits or is not ready in time
 */
export function startPythonPeer(options: PythonPeerOptions): Promise<PeerProcess> {
  if ((options.code === undefined) === (options.script === undefined)) {
    return Promise.reject(new TypeError('startPythonPeer needs exactly one of `code` and `script`'));
  }
  const program = options.code !== undefined ? ['-c', options.code] : [options.script as string];
  return startProcessPeer({
    command: DEBIAN_PYTHON,
    args: ['-u', ...program, ...(options.args ?? [])],
    env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...options.env },
    name: options.script !== undefined ? `python peer ${options.script}` : 'python peer',
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    ...(options.readyPattern !== undefined && { readyPattern: options.readyPattern }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
}
