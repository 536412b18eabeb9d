import { DDPError } from '../errors.js';

/** What a rate-limit rule can count: a method call or a subscription. */
export type RateLimitType = 'method' | 'subscription';

/**
 * One method call or subscription as rate-limit rules see it (the event of Meteor's
 * `DDPRateLimiter`). The server builds it for every `method` and `sub` message whose
 * method or publication exists.
 */
export interface RateLimitInput {
  /** `'method'` or `'subscription'`. */
  readonly type: RateLimitType;
  /** The method's or publication's name. */
  readonly name: string;
  /** The logged-in user of the connection, or `null`. */
  readonly userId: string | null;
  /** The DDP session id of the connection (`DDPConnection.id`). */
  readonly connectionId: string;
  /** The client's IP address, when known (`DDPConnection.clientAddress`). */
  readonly clientAddress: string | undefined;
}

/** How a rule matches one field of the input: a value compared with `===`, or a predicate. */
export type RateLimitFieldMatcher<T> = T | ((value: T) => boolean);

/**
 * Which invocations a rule counts. Each key is a value the input's field must equal, or a
 * predicate it must satisfy; a key left out (or `undefined`) matches everything. Unlike
 * Meteor, `userId: null` is a value like any other: it matches callers that are not logged in.
 *
 * A rule keeps one counter per distinct combination of the input's values for the keys it
 * names, as Meteor does: `{ name: 'send', connectionId: () => true }` limits every connection
 * separately, `{ name: 'send' }` limits all connections together, and
 * `{ type: 'method', name: (name) => name.startsWith('admin.') }` limits each matching
 * method separately.
 */
export type RateLimitMatcher = {
  readonly [K in keyof RateLimitInput]?: RateLimitFieldMatcher<RateLimitInput[K]> | undefined;
};

/** The verdict on one invocation. */
export interface RateLimitResult {
  /** Whether the invocation may run: no matching rule is over its limit. */
  readonly allowed: boolean;
  /**
   * Milliseconds until the counter that decided this verdict starts again: the longest wait
   * among the refusing rules, or the reset of the rule with the fewest invocations left.
   * 0 when no rule matched.
   */
  readonly timeToReset: number;
  /** Invocations left before a matching rule refuses (0 when refused, `Infinity` when no rule matched). */
  readonly numInvocationsLeft: number;
  /** The rule that refused (the one with the longest wait), when refused. */
  readonly ruleId?: string;
}

/** Called with the rule's own verdict and the input every time the rule counts an invocation. */
export type RateLimitCallback = (result: RateLimitResult, input: RateLimitInput) => void;

/** The `reason` of a refusal: a fixed text, or one built from the verdict (`timeToReset` in ms). */
export type RateLimitErrorMessage = string | ((result: RateLimitResult) => string);

/** Options for `RateLimiter`. */
export interface RateLimiterOptions {
  /** Clock in milliseconds. Default `performance.now()`; tests pass their own to move time by hand. */
  now?: () => number;
  /** Refusal reason for every rule without its own (`setErrorMessage`). Default: Meteor's text. */
  errorMessage?: RateLimitErrorMessage;
}

/** The error code of a refusal, as Meteor sends it. */
export const TOO_MANY_REQUESTS = 'too-many-requests';

/** Meteor's refusal text. */
function defaultErrorMessage(result: RateLimitResult): string {
  return `Error, too many requests. Please slow down. You must wait ${Math.ceil(result.timeToReset / 1000)} seconds before trying again.`;
}

const MATCHER_KEYS = ['type', 'name', 'userId', 'connectionId', 'clientAddress'] as const;
type MatcherKey = (typeof MATCHER_KEYS)[number];

interface Window {
  /** When the window opened. */
  readonly start: number;
  /** Invocations counted in it (refused ones included). */
  count: number;
}

interface Rule {
  readonly id: string;
  /** The matcher's keys that are set, in `MATCHER_KEYS` order: they form the counter key. */
  readonly keys: readonly MatcherKey[];
  readonly matcher: RateLimitMatcher;
  readonly numRequests: number;
  readonly timeInterval: number;
  readonly callback: RateLimitCallback | undefined;
  message: RateLimitErrorMessage | undefined;
  /** Open windows by counter key; expired ones are dropped by `sweep`. */
  readonly windows: Map<string, Window>;
  /** Time of the next sweep of expired windows. */
  nextSweep: number;
}

function matches(rule: Rule, input: RateLimitInput): boolean {
  for (const key of rule.keys) {
    const expected: unknown = rule.matcher[key];
    const actual = input[key];
    if (typeof expected === 'function') {
      if (!(expected as (value: unknown) => boolean)(actual)) return false;
    } else if (expected !== actual) {
      return false;
    }
  }
  return true;
}

/** Drop the windows that have ended; at most once per interval per rule. */
function sweep(rule: Rule, now: number): void {
  if (now < rule.nextSweep) return;
  for (const [key, window] of rule.windows) {
    if (now - window.start >= rule.timeInterval) rule.windows.delete(key);
  }
  rule.nextSweep = now + rule.timeInterval;
}

/**
 * Rate limits for a `DDPServer`'s methods and subscriptions, in the manner of Meteor's
 * `DDPRateLimiter`. Each rule allows `numRequests` invocations per `timeInterval`
 * milliseconds for every distinct combination of the values its matcher names; an
 * invocation over any matching rule's limit is refused with a `too-many-requests` error
 * whose `details.timeToReset` says how long to wait. Refused invocations count too.
 *
 * Windows are fixed: a counter's window opens with its first invocation and closes
 * `timeInterval` later. Counters of closed windows are dropped, so memory stays bounded by
 * the keys active within about two intervals. The limiter sets no timers.
 */
export class RateLimiter {
  readonly #now: () => number;
  readonly #rules = new Map<string, Rule>();
  #message: RateLimitErrorMessage;
  #nextId = 1;

  constructor(options: RateLimiterOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#message = options.errorMessage ?? defaultErrorMessage;
  }

  /**
   * Add a rule: invocations that match `matcher` are allowed `numRequests` times (default 10;
   * 0 refuses them all) per `timeInterval` milliseconds (default 1000) for each distinct
   * combination of the matched keys' values. `callback` hears every invocation the rule
   * counts. Returns the rule's id for `removeRule` and `setErrorMessageOnRule`.
   */
  addRule(matcher: RateLimitMatcher, numRequests = 10, timeInterval = 1000, callback?: RateLimitCallback): string {
    if (typeof matcher !== 'object' || matcher === null) throw new TypeError('a rate-limit matcher must be an object');
    for (const key of Object.keys(matcher)) {
      if (!(MATCHER_KEYS as readonly string[]).includes(key)) {
        throw new TypeError(`unknown rate-limit matcher key '${key}' (expected ${MATCHER_KEYS.join(', ')})`);
      }
    }
    if (!Number.isInteger(numRequests) || numRequests < 0) throw new RangeError('numRequests must be an integer of at least 0');
    if (!Number.isFinite(timeInterval) || timeInterval <= 0) throw new RangeError('timeInterval must be a positive number of milliseconds');
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError('a rate-limit callback must be a function');
    const id = String(this.#nextId);
    this.#nextId += 1;
    this.#rules.set(id, {
      id,
      keys: MATCHER_KEYS.filter((key) => matcher[key] !== undefined),
      matcher: { ...matcher },
      numRequests,
      timeInterval,
      callback,
      message: undefined,
      windows: new Map(),
      nextSweep: this.#now() + timeInterval,
    });
    return id;
  }

  /** Remove a rule and its counters; `false` when there is no rule with that id. */
  removeRule(id: string): boolean {
    return this.#rules.delete(id);
  }

  /** Set the refusal reason of every rule that has none of its own. */
  setErrorMessage(message: RateLimitErrorMessage): void {
    this.#message = message;
  }

  /** Set the refusal reason of one rule; `false` when there is no rule with that id. */
  setErrorMessageOnRule(id: string, message: RateLimitErrorMessage): boolean {
    const rule = this.#rules.get(id);
    if (!rule) return false;
    rule.message = message;
    return true;
  }

  /** Number of counters currently kept, across all rules (for monitoring). */
  get activeCounters(): number {
    let total = 0;
    for (const rule of this.#rules.values()) total += rule.windows.size;
    return total;
  }

  /**
   * Count one invocation against every matching rule and return the verdict. Callbacks run
   * after every rule has counted. Throws what a predicate, callback or message function throws
   * (the server then answers the invocation with an internal error).
   */
  consume(input: RateLimitInput): RateLimitResult {
    const now = this.#now();
    const counted: { rule: Rule; result: RateLimitResult }[] = [];
    for (const rule of this.#rules.values()) {
      sweep(rule, now);
      if (!matches(rule, input)) continue;
      const key = JSON.stringify(rule.keys.map((name) => input[name] ?? null));
      let window = rule.windows.get(key);
      if (window === undefined || now - window.start >= rule.timeInterval) {
        window = { start: now, count: 0 };
        rule.windows.set(key, window);
      }
      window.count += 1;
      const allowed = window.count <= rule.numRequests;
      const result: RateLimitResult = {
        allowed,
        timeToReset: Math.max(0, window.start + rule.timeInterval - now),
        numInvocationsLeft: Math.max(0, rule.numRequests - window.count),
        ...(allowed ? {} : { ruleId: rule.id }),
      };
      counted.push({ rule, result });
    }
    for (const { rule, result } of counted) rule.callback?.(result, input);
    return combine(counted.map((entry) => entry.result));
  }

  /** The reason text for a refusal: the refusing rule's message, else the limiter's. */
  errorMessage(result: RateLimitResult): string {
    const message = (result.ruleId === undefined ? undefined : this.#rules.get(result.ruleId)?.message) ?? this.#message;
    return typeof message === 'function' ? message(result) : message;
  }

  /**
   * The error a refused invocation is answered with, as Meteor sends it:
   * `too-many-requests`, the reason from `errorMessage`, and `details: { timeToReset }`.
   */
  errorFor(result: RateLimitResult): DDPError {
    return new DDPError(TOO_MANY_REQUESTS, this.errorMessage(result), { timeToReset: result.timeToReset });
  }
}

/** Merge per-rule verdicts: refused if any refused (longest wait wins), else the tightest rule. */
function combine(results: readonly RateLimitResult[]): RateLimitResult {
  let refused: RateLimitResult | undefined;
  let tightest: RateLimitResult | undefined;
  for (const result of results) {
    if (!result.allowed) {
      if (refused === undefined || result.timeToReset > refused.timeToReset) refused = result;
    } else if (tightest === undefined || result.numInvocationsLeft < tightest.numInvocationsLeft) {
      tightest = result;
    }
  }
  if (refused) return refused;
  if (tightest) return { allowed: true, timeToReset: tightest.timeToReset, numInvocationsLeft: tightest.numInvocationsLeft };
  return { allowed: true, timeToReset: 0, numInvocationsLeft: Number.POSITIVE_INFINITY };
}
