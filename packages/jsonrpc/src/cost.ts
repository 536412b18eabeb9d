/** Cost-based throttling settings (the model of aiorpcx's session cost). */
export interface CostLimits {
  /** Above this cost, requests are delayed and fewer run at once. Default 2000. */
  softLimit?: number;
  /** At this cost the session is refused with -101 and disconnected. 0 disables. Default 10000 (servers), 0 (clients). */
  hardLimit?: number;
  /** Cost forgiven per second. Default `hardLimit / 3600`. */
  decayPerSecond?: number;
  /** Delay at the hard limit, in ms; scales linearly from 0 at the soft limit. Default 2000. */
  maxDelayMs?: number;
  /** Cost of every error the peer causes. Default 100 (a parse error costs ten times that). */
  errorCost?: number;
  /** Cost of every byte sent or received. Default 0.00001. */
  byteCost?: number;
}

/** Resolved cost settings. */
export type ResolvedCostLimits = Required<CostLimits>;

/** Defaults for a server-side session. */
export function resolveCostLimits(limits: CostLimits, server: boolean): ResolvedCostLimits {
  const hardLimit = limits.hardLimit ?? (server ? 10_000 : 0);
  return {
    softLimit: limits.softLimit ?? 2_000,
    hardLimit,
    decayPerSecond: limits.decayPerSecond ?? (hardLimit > 0 ? hardLimit / 3600 : 10_000 / 3600),
    maxDelayMs: limits.maxDelayMs ?? 2_000,
    errorCost: limits.errorCost ?? 100,
    byteCost: limits.byteCost ?? 0.00001,
  };
}

/** Recalculate the throttle once the cost drifted this far since the last time. */
const RECALC_STEP = 100;

/**
 * The resource cost a peer has run up. Costs decay over time; between the soft and the
 * hard limit requests are delayed and concurrency shrinks; at the hard limit the session
 * is over budget.
 */
export class CostMeter {
  readonly limits: ResolvedCostLimits;
  #cost = 0;
  #costAtRecalc = 0;
  #recalcTime: number;
  #fraction = 0;
  readonly #onChange: (fraction: number) => void;
  readonly #extraCost: () => number;

  /** `onChange` hears every new throttle fraction; `extraCost` is added to the cost when computing it. */
  constructor(limits: ResolvedCostLimits, onChange: (fraction: number) => void, extraCost: () => number = () => 0) {
    this.limits = limits;
    this.#recalcTime = Date.now();
    this.#onChange = onChange;
    this.#extraCost = extraCost;
  }

  /** The current cost. */
  get cost(): number {
    return this.#cost;
  }

  /** 0 below the soft limit, 1 at the hard limit. */
  get fraction(): number {
    return this.#fraction;
  }

  /** True when the hard limit is enabled and reached. */
  get exceeded(): boolean {
    return this.limits.hardLimit > 0 && this.#fraction >= 1;
  }

  /** How long to hold back the next request, in ms. */
  get delayMs(): number {
    return Math.min(1, this.#fraction) * this.limits.maxDelayMs;
  }

  /** Add (or, when negative, refund) cost. */
  bump(delta: number): void {
    this.#cost = Math.max(0, this.#cost + delta);
    if (Math.abs(this.#cost - this.#costAtRecalc) > RECALC_STEP) this.recalculate();
  }

  /** Apply the decay since the last call and recompute the throttle fraction (with the extra cost). */
  recalculate(): void {
    const now = Date.now();
    this.#cost = Math.max(0, this.#cost - ((now - this.#recalcTime) / 1000) * this.limits.decayPerSecond);
    this.#recalcTime = now;
    this.#costAtRecalc = this.#cost;
    const { softLimit, hardLimit } = this.limits;
    const range = hardLimit - softLimit;
    const fraction = range > 0 ? Math.max(0, (this.#cost + this.#extraCost() - softLimit) / range) : 0;
    if (fraction !== this.#fraction) {
      this.#fraction = fraction;
      this.#onChange(fraction);
    }
  }
}
