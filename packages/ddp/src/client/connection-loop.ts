import { ConnectionError, connectWebSocket, delay, type CloseInfo, type Transport } from '@rt/transport';
import type { EJSON } from '../ejson.js';
import { VersionMismatchError } from '../errors.js';
import { ConnectionSession, type SessionMessage, type SessionOutcome } from './connection-session.js';
import type { ConnectionStatus } from './connection-status.js';
import { DEFAULT_HEARTBEAT, type DDPClientOptions } from './options.js';
import type { RetryPolicy } from './retry-policy.js';

/** What the connection loop reports to its client. */
export interface ConnectionLoopHooks {
  setStatus(status: ConnectionStatus): void;
  /** The session id to ask to resume, if any. */
  previousSession(): string | undefined;
  onConnected(sessionId: string, version: string): void;
  onMessage(message: SessionMessage): void;
  onError(error: Error): void;
  /** A connection ended; `wasOpen` when its DDP session had opened. */
  onClosed(info: CloseInfo, wasOpen: boolean): void;
  /** The loop gave up: `offline` (never connected, or reconnect is off) or `failed`. */
  onOffline(reason: Error, status: 'offline' | 'failed'): void;
}

/** Settings of a connection loop. */
export interface ConnectionLoopOptions {
  url: string;
  versions: readonly string[];
  ejson: EJSON;
  retry: RetryPolicy | undefined;
  client: DDPClientOptions;
}

/**
 * The client's connection state machine: connecting → connected → waiting → connecting …
 * until stopped, out of attempts (`failed`), or refused a DDP version. Renegotiates the
 * version at once when the server asks for another one the client speaks.
 */
export class ConnectionLoop {
  readonly #options: ConnectionLoopOptions;
  readonly #hooks: ConnectionLoopHooks;
  #session: ConnectionSession | undefined;
  #skipWait: AbortController | undefined;

  constructor(options: ConnectionLoopOptions, hooks: ConnectionLoopHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** The current connection, if any. */
  get session(): ConnectionSession | undefined {
    return this.#session;
  }

  /** While waiting between attempts, try again now. */
  retryNow(): void {
    this.#skipWait?.abort();
  }

  /** Run until `signal` aborts or the loop gives up. */
  async run(signal: AbortSignal): Promise<void> {
    const { versions, retry, url } = this.#options;
    let attempt = 0;
    let everConnected = false;
    let version = versions[0] as string;
    const tried = new Set([version]);
    while (!signal.aborted) {
      this.#hooks.setStatus({ status: 'connecting', connected: false, retryCount: attempt });
      const outcome = await this.#attempt(version, signal);
      if (signal.aborted) return;
      if (outcome.kind === 'retry-version') {
        // A server that keeps refusing the versions it asks for would otherwise loop forever.
        if (tried.has(outcome.version)) {
          this.#hooks.onOffline(new VersionMismatchError(outcome.version, versions), 'failed');
          return;
        }
        tried.add(outcome.version);
        version = outcome.version;
        continue;
      }
      if (outcome.kind === 'version-mismatch') {
        this.#hooks.onOffline(outcome.error, 'failed');
        return;
      }
      if (outcome.kind === 'lost') {
        everConnected = true;
        attempt = 0;
        tried.clear();
        tried.add(version);
      }
      if (!everConnected) {
        this.#hooks.onOffline(new ConnectionError(`could not connect to ${url}: ${outcome.error.message}`, { cause: outcome.error }), 'offline');
        return;
      }
      attempt += 1;
      if (!retry?.canRetry(attempt)) {
        this.#hooks.onOffline(new ConnectionError('the connection was lost', { cause: outcome.error }), retry ? 'failed' : 'offline');
        return;
      }
      const delayMs = retry.delayFor(attempt);
      this.#hooks.setStatus({ status: 'waiting', connected: false, retryCount: attempt, retryTime: Date.now() + delayMs, reason: outcome.error });
      const wait = new AbortController();
      const stop = (): void => wait.abort();
      signal.addEventListener('abort', stop, { once: true });
      this.#skipWait = wait;
      try {
        await delay(delayMs, wait.signal);
      } catch {
        if (signal.aborted) return;
      } finally {
        this.#skipWait = undefined;
        signal.removeEventListener('abort', stop);
      }
    }
  }

  /** One connection: open, handshake, serve until it ends. */
  async #attempt(version: string, signal: AbortSignal): Promise<SessionOutcome> {
    const { client, url, ejson, versions } = this.#options;
    const timeoutMs = client.connectTimeoutMs ?? 10_000;
    let transport: Transport;
    try {
      transport = client.transport
        ? await client.transport(signal)
        : await connectWebSocket(url, {
            signal,
            timeoutMs,
            ...(client.WebSocket ? { WebSocket: client.WebSocket } : {}),
            ...(client.compression !== undefined ? { compression: client.compression } : {}),
          });
    } catch (error) {
      return { kind: 'unreachable', error: error instanceof Error ? error : new Error(String(error)) };
    }
    const session = new ConnectionSession(transport, {
      ejson,
      version,
      support: versions,
      previousSession: this.#hooks.previousSession(),
      handshakeTimeoutMs: timeoutMs,
      heartbeat: client.heartbeat === false ? undefined : { ...DEFAULT_HEARTBEAT, ...client.heartbeat },
      onConnected: (sessionId, negotiated) => this.#hooks.onConnected(sessionId, negotiated),
      onMessage: (message) => this.#hooks.onMessage(message),
      onError: (error) => this.#hooks.onError(error),
    });
    this.#session = session;
    const outcome = await session.run();
    this.#session = undefined;
    const reason = outcome.kind === 'retry-version' ? `the server asked for version ${outcome.version}` : outcome.error.message;
    this.#hooks.onClosed(outcome.kind === 'lost' ? outcome.info : { code: 1006, reason, wasClean: false }, outcome.kind === 'lost');
    return outcome;
  }
}
