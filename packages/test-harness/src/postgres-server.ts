import { execFile, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerExitCleanup } from './exit-cleanup.js';
import { freePort } from './free-port.js';

/** Where Debian installs the PostgreSQL 15 server binaries. */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /** Directory holding `initdb`, `pg_ctl` (default {@link POSTGRES_BIN_DIR}). */
  binDir?: string;
  /**
   * Extra server settings passed as `-c name=value` (simple values only). The defaults
   * already set `wal_level=logical`, `max_wal_senders=10`, `max_replication_slots=10`.
   */
  settings?: Record<string, string | number>;
  /** How long `initdb` and the start may take (default 60 000 ms). */
  timeoutMs?: number;
}

/** A throwaway PostgreSQL server on loopback, with trust authentication. */
export interface PostgresServer extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** The superuser, `postgres` (no password). */
  readonly user: string;
  /** The database that exists from the start, `postgres`. */
  readonly database: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly connectionString: string;
  /** The temporary directory (data in `data/`, server log in `log`, unix socket). */
  readonly dir: string;
  /**
   * Run SQL with `psql -At` (unaligned, tuples only) and resolve its stdout, trimmed.
   * Rejects with psql's stderr when the SQL fails.
   */
  psql(sql: string): Promise<string>;
  /** Stop the server (`pg_ctl -m fast stop`) and remove its directory. Safe to call twice. */
  stop(): Promise<void>;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[command, ...args].join(' ')} failed: ${error.message}\n${stderr}${stdout}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The uid and gid of the `postgres` system user, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error('there is no "postgres" user: install the postgresql-15 Debian package');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function quoteSetting(value: string | number): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}

/**
 * Start a throwaway PostgreSQL 15 on `127.0.0.1` in a temporary directory: `initdb` with
 * trust authentication for user `postgres`, then `pg_ctl start` with `wal_level=logical`
 * (logical decoding works), on a free port. As root the server runs as the `postgres`
 * system user (PostgreSQL refuses root) in a directory owned by it.
 *
 * The server is stopped (`-m immediate`) and its directory removed when the Node process
 * exits, if `stop()` was not called.
 *
 * @example
 * ```ts
 * const pg = await withTeardown(startPostgres(), (s) => s.stop());
 * const client = new pg.Client({ connectionString: pg.connectionString });
 * ```
 *
 * @param options - binaries, extra settings, timeout
 * @throws Error with the command output or server log when the server does not start
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? POSTGRES_BIN_DIR;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'rt-pg-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'log');
  const host = '127.0.0.1';
  const user = 'postgres';
  const database = 'postgres';
  const asPostgres = (command: string, args: readonly string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
  const pgCtl = (...args: string[]): [string, string[]] => asPostgres(join(binDir, 'pg_ctl'), ['-D', dataDir, ...args]);

  let unregister = registerExitCleanup(removeDir);
  try {
    if (asRoot) {
      const { uid, gid } = postgresUser();
      chownSync(dir, uid, gid);
    }
    await run(...asPostgres(join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', user, '-E', 'UTF8', '--no-sync']), timeoutMs);
  } catch (error) {
    unregister();
    removeDir();
    throw error;
  }

  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && port === 0; attempt += 1) {
    const candidate = await freePort(host);
    const settings: Record<string, string | number> = {
      wal_level: 'logical',
      listen_addresses: host,
      port: candidate,
      unix_socket_directories: dir,
      max_wal_senders: 10,
      max_replication_slots: 10,
      fsync: 'off',
      ...options.settings,
    };
    const serverOptions = Object.entries(settings)
      .map(([name, value]) => `-c ${name}=${quoteSetting(value)}`)
      .join(' ');
    try {
      await run(...pgCtl('-o', serverOptions, '-l', logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'start'), timeoutMs + 5000);
      port = candidate;
    } catch (error) {
      lastError = new Error(`${error instanceof Error ? error.message : String(error)}\n--- server log ---\n${readLog(logFile)}`);
      spawnSync(...pgCtl('-m', 'immediate', 'stop'), { stdio: 'ignore' });
    }
  }
  if (port === 0) {
    unregister();
    removeDir();
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  unregister();
  unregister = registerExitCleanup(() => {
    spawnSync(...pgCtl('-m', 'immediate', '-w', 'stop'), { stdio: 'ignore' });
    removeDir();
  });
  let stopped: Promise<void> | undefined;
  const server: PostgresServer = {
    host,
    port,
    user,
    database,
    connectionString: `postgres://${user}@${host}:${port}/${database}`,
    dir,
    async psql(sql: string): Promise<string> {
      const args = ['-h', host, '-p', String(port), '-U', user, '-d', database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql];
      const { stdout } = await run(join(binDir, 'psql'), args, timeoutMs);
      return stdout.trim();
    },
    stop(): Promise<void> {
      stopped ??= run(...pgCtl('-m', 'fast', '-w', 'stop'), timeoutMs)
        .catch(() => run(...pgCtl('-m', 'immediate', '-w', 'stop'), timeoutMs).catch(() => undefined))
        .then(() => {
          unregister();
          removeDir();
        });
      return stopped;
    },
    [Symbol.asyncDispose](): Promise<void> {
      return server.stop();
    },
  };
  return server;
}
