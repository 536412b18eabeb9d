/** When and how often a client reconnects (`ReconnectPolicy` from `@rt/transport` fits). */
export interface RetryPolicy {
  /** Milliseconds to wait before retry number `attempt` (1-based). */
  delayFor(attempt: number): number;
  /** Whether retry number `attempt` (1-based) may happen. */
  canRetry(attempt: number): boolean;
}

/** Options for `MeteorRetryPolicy`; the defaults are Meteor's. */
export interface MeteorRetryOptions {
  /** Base delay in milliseconds. Default 1000. */
  baseDelayMs?: number;
  /** Growth per retry. Default 2.2. */
  exponent?: number;
  /** Upper bound in milliseconds. Default 300 000 (five minutes). */
  maxDelayMs?: number;
  /** Delay of the first `quickRetries` retries. Default 10. */
  minDelayMs?: number;
  /** Retries made after only `minDelayMs`. Default 2. */
  quickRetries?: number;
  /** Random spread: each delay is scaled by a factor in [1 - fuzz/2, 1 + fuzz/2). Default 0.5. */
  fuzz?: number;
  /** Give up after this many consecutive failed retries. Default: never. */
  maxAttempts?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Meteor's reconnect backoff: two quick retries, then `base * exponent^n` with ±25% fuzz,
 * capped at five minutes.
 */
export class MeteorRetryPolicy implements RetryPolicy {
  readonly #baseDelayMs: number;
  readonly #exponent: number;
  readonly #maxDelayMs: number;
  readonly #minDelayMs: number;
  readonly #quickRetries: number;
  readonly #fuzz: number;
  readonly #maxAttempts: number;
  readonly #random: () => number;

  constructor(options: MeteorRetryOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 1000;
    this.#exponent = options.exponent ?? 2.2;
    this.#maxDelayMs = options.maxDelayMs ?? 5 * 60 * 1000;
    this.#minDelayMs = options.minDelayMs ?? 10;
    this.#quickRetries = options.quickRetries ?? 2;
    this.#fuzz = options.fuzz ?? 0.5;
    this.#maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    this.#random = options.random ?? Math.random;
  }

  delayFor(attempt: number): number {
    const count = Math.max(0, attempt - 1);
    if (count < this.#quickRetries) return this.#minDelayMs;
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * this.#exponent ** count);
    return Math.round(delay * (this.#random() * this.#fuzz + (1 - this.#fuzz / 2)));
  }

  canRetry(attempt: number): boolean {
    return attempt <= this.#maxAttempts;
  }
}
