import { ORIGIN_TOKEN_DATA } from '../token.js';
import type { Timestamp } from '../types.js';
import type { ChangeRecord, ChangeSink } from './source.js';

/** Options of a `ChangeLog`. */
export interface ChangeLogOptions {
  /** Changes kept in memory; older ones are dropped and resuming before them gets 286. */
  retain?: number;
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.t - b.t || a.i - b.i;
}

/**
 * The retained, ordered log of one source's changes, shared by every cursor. Positions are
 * absolute indexes (they survive trimming); tokens are searched by binary search.
 */
export class ChangeLog implements ChangeSink {
  readonly #retain: number;
  #records: ChangeRecord[] = [];
  /** Absolute index of `#records[0]`. */
  #base = 0;
  #origin = ORIGIN_TOKEN_DATA;
  /** Cluster time of the last dropped change, when known. */
  #originTime: Timestamp | undefined;
  #waiters = new Set<() => void>();

  constructor(options: ChangeLogOptions = {}) {
    this.#retain = Math.max(1, options.retain ?? 1_000_000);
  }

  /** Token data of the earliest retained position (history before it is lost). */
  get origin(): string {
    return this.#origin;
  }

  /** Set the origin reported by the source (never moves it backwards). */
  setOrigin(origin: string): void {
    if (origin > this.#origin) {
      this.#origin = origin;
      this.#originTime = undefined;
    }
  }

  /** Absolute index one past the last record. */
  get end(): number {
    return this.#base + this.#records.length;
  }

  /** Absolute index of the first retained record. */
  get start(): number {
    return this.#base;
  }

  /** Token data of the newest position (the last record, or the origin). */
  get headToken(): string {
    return this.#records.at(-1)?.token ?? this.#origin;
  }

  /** Cluster time of the newest record, or now. */
  get operationTime(): Timestamp {
    return this.#records.at(-1)?.clusterTime ?? { t: Math.floor(Date.now() / 1000), i: 0 };
  }

  /** The record at an absolute index, if retained. */
  at(index: number): ChangeRecord | undefined {
    return this.#records[index - this.#base];
  }

  append(records: readonly ChangeRecord[]): void {
    let added = 0;
    for (const record of records) {
      if (record.token <= this.headToken) continue;
      this.#records.push(record);
      added += 1;
    }
    if (added === 0) return;
    this.#trim();
    for (const wake of [...this.#waiters]) wake();
  }

  /** Absolute index of the first record whose token is greater than `token`. */
  indexAfter(token: string, hint?: number): number {
    const records = this.#records;
    if (hint !== undefined) {
      const local = hint - this.#base;
      if (local >= 0 && local <= records.length) {
        const before = records[local - 1];
        const at = records[local];
        if ((before === undefined ? token >= this.#origin : before.token <= token) && (at === undefined || at.token > token)) return hint;
      }
    }
    let low = 0;
    let high = records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((records[middle] as ChangeRecord).token <= token) low = middle + 1;
      else high = middle;
    }
    return this.#base + low;
  }

  /** True when resuming after `token` would skip dropped history. */
  isLost(token: string): boolean {
    return token < this.#origin;
  }

  /**
   * Token data of the position just before the first retained change at or after `time`, or
   * `undefined` when changes that old may have been dropped.
   */
  positionForTime(time: Timestamp): string | undefined {
    const records = this.#records;
    let low = 0;
    let high = records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareTimestamps((records[middle] as ChangeRecord).clusterTime, time) < 0) low = middle + 1;
      else high = middle;
    }
    if (low > 0) return (records[low - 1] as ChangeRecord).token;
    if (this.#origin === ORIGIN_TOKEN_DATA) return this.#origin;
    if (this.#originTime !== undefined && compareTimestamps(this.#originTime, time) < 0) return this.#origin;
    return undefined;
  }

  /** Wait until a record exists at absolute index `index`, `timeoutMs` passes, or the signal aborts. */
  waitFor(index: number, signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (index < this.end || signal.aborted || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const wake = (): void => {
        if (index < this.end) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.#waiters.add(wake);
      signal.addEventListener('abort', finish, { once: true });
    });
  }

  #trim(): void {
    const excess = this.#records.length - this.#retain;
    if (excess <= 0) return;
    // Trim in chunks so appends stay amortised O(1).
    const drop = Math.max(excess, Math.min(this.#records.length, Math.ceil(this.#retain / 8)));
    const last = this.#records[drop - 1] as ChangeRecord;
    this.#records = this.#records.slice(drop);
    this.#base += drop;
    this.#origin = last.token;
    this.#originTime = last.clusterTime;
  }
}
