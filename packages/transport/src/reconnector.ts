import { delay } from './abort.js';
import { Emitter } from './emitter.js';
import { ReconnectPolicy, type ReconnectPolicyOptions } from './reconnect-policy.js';
import type { Transport } from './transport.js';

/** Where a reconnecting connection stands. */
export type ReconnectStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; attempt: number }
  | { state: 'waiting'; attempt: number; delayMs: number; retryAt: number; error: Error | undefined }
  | { state: 'failed'; attempt: number; error: Error | undefined }
  | { state: 'stopped' };

/** Events of a `Reconnector`. */
export interface ReconnectorEvents extends Record<string, unknown[]> {
  /** Every status change. */
  status: [ReconnectStatus];
  /** A new transport is open; set up the protocol session on it. */
  open: [Transport];
}

/**
 * Keeps a connection up: connects, hands each new transport to `open` listeners, and on
 * loss waits per the policy before connecting again, until stopped or out of attempts.
 */
export class Reconnector extends Emitter<ReconnectorEvents> {
  readonly #connect: (signal: AbortSignal) => Promise<Transport>;
  readonly #policy: ReconnectPolicy;
  readonly #stop = new AbortController();
  #status: ReconnectStatus = { state: 'stopped' };
  #transport: Transport | undefined;
  #running: Promise<void> | undefined;

  constructor(connect: (signal: AbortSignal) => Promise<Transport>, policy: ReconnectPolicy | ReconnectPolicyOptions = {}) {
    super();
    this.#connect = connect;
    this.#policy = policy instanceof ReconnectPolicy ? policy : new ReconnectPolicy(policy);
  }

  /** The current status. */
  get status(): ReconnectStatus {
    return this.#status;
  }

  /** The open transport, if any. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** Start connecting (idempotent). Resolves when the loop ends (stopped or failed). */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stop reconnecting and close the current transport. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#transport?.close();
    await this.#running;
    this.#setStatus({ state: 'stopped' });
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      this.#setStatus({ state: 'connecting', attempt: failures + 1 });
      let lastError: Error | undefined;
      try {
        const transport = await this.#connect(signal);
        failures = 0;
        this.#transport = transport;
        this.#setStatus({ state: 'open', attempt: 1 });
        this.emit('open', transport);
        const info = await transport.closed;
        this.#transport = undefined;
        lastError = info.error;
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        failures += 1;
      }
      if (signal.aborted) return;
      const attempt = Math.max(1, failures);
      if (!this.#policy.canRetry(attempt)) {
        this.#setStatus({ state: 'failed', attempt, error: lastError });
        return;
      }
      const delayMs = this.#policy.delayFor(attempt);
      this.#setStatus({ state: 'waiting', attempt, delayMs, retryAt: Date.now() + delayMs, error: lastError });
      try {
        await delay(delayMs, signal);
      } catch {
        return;
      }
    }
  }

  #setStatus(status: ReconnectStatus): void {
    this.#status = status;
    this.emit('status', status);
  }
}
