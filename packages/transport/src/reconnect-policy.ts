/** Options for `ReconnectPolicy`. */
export interface ReconnectPolicyOptions {
  /** Delay before the first retry, in milliseconds. Default 500. */
  initialDelayMs?: number;
  /** Upper bound of any delay. Default 30 000. */
  maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay randomised, 0..1 (0.5: between 50% and 100% of it). Default 0.5. */
  jitter?: number;
  /** Give up after this many consecutive failed retries (the first attempt is not counted). Default: never. */
  maxAttempts?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/** Exponential backoff with jitter and an optional cap on attempts. */
export class ReconnectPolicy {
  /** Delay before the first retry. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay. */
  readonly maxDelayMs: number;
  /** Growth factor per attempt. */
  readonly factor: number;
  /** Randomised fraction of each delay. */
  readonly jitter: number;
  /** Maximum consecutive attempts. */
  readonly maxAttempts: number;
  readonly #random: () => number;

  constructor(options: ReconnectPolicyOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    this.#random = options.random ?? Math.random;
    if (this.initialDelayMs < 0 || this.maxDelayMs < this.initialDelayMs || this.factor < 1) {
      throw new RangeError('ReconnectPolicy needs 0 <= initialDelayMs <= maxDelayMs and factor >= 1');
    }
  }

  /** The delay before retry number `attempt` (1-based). */
  delayFor(attempt: number): number {
    const exponential = this.initialDelayMs * this.factor ** Math.max(0, attempt - 1);
    const capped = Math.min(this.maxDelayMs, exponential);
    return Math.round(capped * (1 - this.jitter * this.#random()));
  }

  /** Whether retry number `attempt` (1-based) is allowed. */
  canRetry(attempt: number): boolean {
    return attempt <= this.maxAttempts;
  }
}
