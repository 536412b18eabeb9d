import { spawn, type ChildProcess } from 'node:child_process';
import { registerExitCleanup } from './exit-cleanup.js';

/** How a peer process ended. */
export interface PeerExit {
  /** Exit code, or `null` when it was ended by a signal. */
  code: number | null;
  /** The signal that ended it, or `null`. */
  signal: NodeJS.Signals | null;
}

/** Options of {@link startProcessPeer}. */
export interface ProcessPeerOptions {
  /** Executable to run (an absolute path is best: the PATH may hold other builds). */
  command: string;
  /** Its arguments. */
  args?: readonly string[];
  /** Extra environment variables, merged over `process.env`. */
  env?: Record<string, string | undefined>;
  /** Working directory. */
  cwd?: string;
  /** Wait for a stdout line matching this before resolving (e.g. `/READY (\d+)/`). */
  readyPattern?: RegExp;
  /** How long to wait for `readyPattern` (default 15 000 ms). */
  timeoutMs?: number;
  /** Name used in error messages (default: the command). */
  name?: string;
}

/** Options of {@link PeerProcess.waitForLine}. */
export interface WaitForLineOptions {
  /** Only look at stdout lines from this index on (default 0: lines already seen count too). */
  from?: number;
  /** Give up after this long (default 15 000 ms). */
  timeoutMs?: number;
}

/** A running external peer process, with its output captured line by line. */
export interface PeerProcess extends AsyncDisposable {
  /** Process id. */
  readonly pid: number;
  /** Every stdout line so far (without line endings). */
  readonly lines: readonly string[];
  /** Every stderr line so far. */
  readonly stderrLines: readonly string[];
  /** The match of `readyPattern`, when one was given. */
  readonly ready: RegExpMatchArray | undefined;
  /** The first group of the ready match parsed as a port number, when it is one. */
  readonly port: number | undefined;
  /** Resolves when the process has exited. Never rejects. */
  readonly exited: Promise<PeerExit>;
  /**
   * Wait for a stdout line matching `pattern` and return its match. Rejects with the
   * captured stderr when the process exits or the time runs out first.
   */
  waitForLine(pattern: RegExp, options?: WaitForLineOptions): Promise<RegExpMatchArray>;
  /**
   * Send SIGTERM, then SIGKILL after `graceMs` (default 3000), and wait for the exit. Only the
   * process itself is signalled: a shell wrapper should `exec` the real server.
   */
  stop(graceMs?: number): Promise<PeerExit>;
}

interface LineWaiter {
  pattern: RegExp;
  from: number;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
}

function describeOutput(stderr: readonly string[], stdout: readonly string[]): string {
  const tail = (lines: readonly string[]): string => lines.slice(-20).join('\n');
  return `\n--- stderr ---\n${tail(stderr)}\n--- stdout ---\n${tail(stdout)}`;
}

class RunningPeer implements PeerProcess {
  readonly pid: number;
  readonly lines: string[] = [];
  readonly stderrLines: string[] = [];
  ready: RegExpMatchArray | undefined;
  readonly exited: Promise<PeerExit>;
  private exit: PeerExit | undefined;
  private readonly waiters = new Set<LineWaiter>();
  private readonly unregister: () => void;

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    this.pid = child.pid ?? -1;
    this.unregister = registerExitCleanup(() => {
      if (this.exit === undefined) child.kill('SIGKILL');
    });
    this.exited = new Promise<PeerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.unregister();
        resolve(this.exit);
      });
    });
    // Settle line waiters only once every output line has been read ('close' follows 'exit').
    child.once('close', () => {
      for (const waiter of [...this.waiters]) this.rejectWaiter(waiter, this.exitedError());
    });
    splitLines(child.stdout, (line) => this.onLine(line));
    splitLines(child.stderr, (line) => this.stderrLines.push(line));
  }

  get port(): number | undefined {
    const group = this.ready?.[1];
    if (group === undefined || !/^\d+$/.test(group)) return undefined;
    return Number(group);
  }

  waitForLine(pattern: RegExp, options: WaitForLineOptions = {}): Promise<RegExpMatchArray> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 15_000;
    for (let i = from; i < this.lines.length; i += 1) {
      const match = (this.lines[i] as string).match(pattern);
      if (match) return Promise.resolve(match);
    }
    if (this.exit !== undefined && this.child.stdout?.readableEnded !== false) return Promise.reject(this.exitedError());
    return new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.rejectWaiter(
          waiter,
          new Error(`${this.name} printed no line matching ${String(pattern)} within ${timeoutMs} ms${describeOutput(this.stderrLines, this.lines)}`),
        );
      }, timeoutMs);
      const waiter: LineWaiter = {
        pattern,
        from,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  async stop(graceMs = 3000): Promise<PeerExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop().then(() => undefined);
  }

  /** @internal The child could not be spawned at all. */
  failToSpawn(error: Error): void {
    for (const waiter of [...this.waiters]) this.rejectWaiter(waiter, new Error(`cannot start ${this.name}: ${error.message}`));
  }

  private onLine(line: string): void {
    const index = this.lines.push(line) - 1;
    for (const waiter of [...this.waiters]) {
      if (index < waiter.from) continue;
      const match = line.match(waiter.pattern);
      if (match) {
        this.waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  }

  private rejectWaiter(waiter: LineWaiter, error: Error): void {
    if (!this.waiters.delete(waiter)) return;
    waiter.reject(error);
  }

  private exitedError(): Error {
    const how = this.exit?.signal ? `signal ${this.exit.signal}` : `code ${String(this.exit?.code)}`;
    return new Error(`${this.name} exited (${how})${describeOutput(this.stderrLines, this.lines)}`);
  }
}

function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
    pending = '';
  });
}

/**
 * Spawn an external peer process, capture its output line by line and, when `readyPattern`
 * is given, wait for a stdout line matching it. The process is killed when the Node
 * process exits, if it is still running then.
 *
 * @param options - the command and how to know it is ready
 * @returns the running process
 * @throws Error with the captured stderr when the process exits, cannot start, or is not ready in time
 */
export async function startProcessPeer(options: ProcessPeerOptions): Promise<PeerProcess> {
  const name = options.name ?? options.command;
  const child = spawn(options.command, options.args ?? [], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const peer = new RunningPeer(child, name);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => {
      peer.failToSpawn(error);
      reject(new Error(`cannot start ${name}: ${error.message}`));
    });
  });
  await spawned;
  if (options.readyPattern) {
    try {
      peer.ready = await peer.waitForLine(options.readyPattern, { timeoutMs: options.timeoutMs ?? 15_000 });
    } catch (error) {
      await peer.stop(500);
      throw error;
    }
  }
  return peer;
}
