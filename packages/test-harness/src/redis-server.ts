import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerExitCleanup } from './exit-cleanup.js';
import { freePort } from './free-port.js';
import { startProcessPeer, type PeerProcess } from './process-peer.js';
import { withTimeout } from './timeout.js';

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** The redis-server binary (default `redis-server` from PATH, Debian's `/usr/bin/redis-server`). */
  command?: string;
  /** Extra command-line options, e.g. `['--maxmemory', '10mb']`. */
  args?: readonly string[];
  /** How long to wait for the server to answer PING (default 15 000 ms). */
  timeoutMs?: number;
}

/** A throwaway Redis server on loopback. */
export interface RedisServer extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server process (its output is in `lines`). */
  readonly process: PeerProcess;
  /** Stop the server and remove its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Send an inline `PING` to a Redis server and resolve when it answers `+PONG`.
 *
 * @param host - server host
 * @param port - server port
 * @throws Error when the connection fails or the answer is not `+PONG`
 */
export function pingRedis(host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (text: string) => {
      answer += text;
      if (!answer.includes('\r\n')) return;
      socket.destroy();
      if (answer.startsWith('+PONG')) resolve();
      else reject(new Error(`redis answered PING with ${JSON.stringify(answer.trim())}`));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('redis closed the connection before answering PING')));
  });
}

async function startOnce(options: RedisOptions, dir: string): Promise<RedisServer> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const peer = await startProcessPeer({
    command: options.command ?? 'redis-server',
    args: ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])],
    cwd: dir,
    readyPattern: /Ready to accept connections/,
    timeoutMs,
    name: 'redis-server',
  });
  try {
    await withTimeout(pingRedis(host, port), timeoutMs, 'redis-server to answer PING');
  } catch (error) {
    await peer.stop(500);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const unregister = registerExitCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const server: RedisServer = {
    host,
    port,
    url: `redis://${host}:${port}`,
    process: peer,
    stop() {
      stopped ??= peer.stop().then(() => {
        unregister();
        rmSync(dir, { recursive: true, force: true });
      });
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}

/**
 * Start `redis-server --bind 127.0.0.1 --port <free port> --save '' --appendonly no` in a
 * temporary directory and wait until it answers PING. The port is chosen with
 * {@link freePort}; if another process takes it first, the start is retried on a new port.
 *
 * @example
 * ```ts
 * const redis = await withTeardown(startRedis(), (r) => r.stop());
 * const client = new Redis(redis.port, redis.host);
 * ```
 *
 * @param options - binary, extra options, timeout
 * @throws Error with the server's output when it does not start
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(options, dir);
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
