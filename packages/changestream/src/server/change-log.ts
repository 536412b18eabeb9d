import { ORIGIN_TOKEN_DATA } from '../token.js';
import type { Timestamp } from '../types.js';
import { approximateSize, resolveRetention, type ResolvedRetention, type RetentionPolicy } from './retention.js';
import type { ChangeRecord, ChangeSink } from './source.js';

/**
 * Default retention of a server's in-memory log: 1 000 000 changes, 256 MiB (estimated), no
 * age limit.
 */
export const DEFAULT_LOG_RETENTION: Readonly<RetentionPolicy> = { retainChanges: 1_000_000, retainBytes: 256 * 1024 * 1024 };

/**
 * Options of a `ChangeLog`: how much history it keeps in memory (see `RetentionPolicy`,
 * defaults `DEFAULT_LOG_RETENTION`); resuming before the kept history gets 286.
 */
export interface ChangeLogOptions extends RetentionPolicy {
  /** Alias of `retainChanges`. */
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
  readonly #retention: ResolvedRetention;
  /** Retained records are `#records[#head..]`; the dropped prefix is cut off now and then. */
  #records: ChangeRecord[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  /** Absolute index of `#records[#head]`. */
  #base = 0;
  #origin = ORIGIN_TOKEN_DATA;
  /** Cluster time of the last dropped change, when known. */
  #originTime: Timestamp | undefined;
  #waiters = new Set<() => void>();

  constructor(options: ChangeLogOptions = {}) {
    const { retain, ...policy } = options;
    this.#retention = resolveRetention(retain === undefined ? policy : { ...policy, retainChanges: retain }, DEFAULT_LOG_RETENTION);
  }

  /** Number of retained changes. */
  get length(): number {
    return this.#records.length - this.#head;
  }

  /** Estimated bytes of the retained changes. */
  get retainedBytes(): number {
    return this.#bytes;
  }

  /** Token data of the earliest retained position (history before it is lost). */
  get origin(): string {
    return this.#origin;
  }

  /** Cluster time of the origin's change, when known. */
  get originTime(): Timestamp | undefined {
    return this.#originTime;
  }

  /**
   * Set the origin reported by the source, with its cluster time when known (never moves it
   * backwards).
   */
  setOrigin(origin: string, time?: Timestamp): void {
    if (origin > this.#origin) {
      this.#origin = origin;
      this.#originTime = time;
    }
  }

  /** The retained records, oldest first (a copy). */
  records(): ChangeRecord[] {
    return this.#records.slice(this.#head);
  }

  /** Absolute index one past the last record. */
  get end(): number {
    return this.#base + this.#records.length - this.#head;
  }

  /** Absolute index of the first retained record. */
  get start(): number {
    return this.#base;
  }

  /** Token data of the newest position (the last record, or the origin). */
  get headToken(): string {
    return this.length > 0 ? (this.#records.at(-1) as ChangeRecord).token : this.#origin;
  }

  /** Cluster time of the newest record, or now. */
  get operationTime(): Timestamp {
    return this.length > 0 ? (this.#records.at(-1) as ChangeRecord).clusterTime : { t: Math.floor(Date.now() / 1000), i: 0 };
  }

  /** The record at an absolute index, if retained. */
  at(index: number): ChangeRecord | undefined {
    return index < this.#base ? undefined : this.#records[index - this.#base + this.#head];
  }

  append(records: readonly ChangeRecord[]): void {
    let added = 0;
    const measure = this.#retention.retainBytes !== Infinity;
    for (const record of records) {
      if (record.token <= this.headToken) continue;
      const size = measure ? approximateSize(record) : 0;
      this.#records.push(record);
      this.#sizes.push(size);
      this.#bytes += size;
      added += 1;
    }
    if (added === 0) return;
    this.#trim();
    for (const wake of [...this.#waiters]) wake();
  }

  /** Absolute index of the first record whose token is greater than `token`. */
  indexAfter(token: string, hint?: number): number {
    const records = this.#records;
    const head = this.#head;
    if (hint !== undefined) {
      const local = hint - this.#base + head;
      if (local >= head && local <= records.length) {
        const before = local > head ? records[local - 1] : undefined;
        const at = records[local];
        if ((before === undefined ? token >= this.#origin : before.token <= token) && (at === undefined || at.token > token)) return hint;
      }
    }
    let low = head;
    let high = records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((records[middle] as ChangeRecord).token <= token) low = middle + 1;
      else high = middle;
    }
    return this.#base + low - head;
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
    let low = this.#head;
    let high = records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareTimestamps((records[middle] as ChangeRecord).clusterTime, time) < 0) low = middle + 1;
      else high = middle;
    }
    if (low > this.#head) return (records[low - 1] as ChangeRecord).token;
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
    const { retainChanges, retainBytes, retainMs } = this.#retention;
    const records = this.#records;
    const oldest = retainMs === Infinity ? -Infinity : Date.now() - retainMs;
    let head = this.#head;
    const newest = records.length - 1;
    const tooOld = (record: ChangeRecord): boolean => retainMs !== Infinity && new Date(record.wallTime).getTime() < oldest;
    while (head < newest && (records.length - head > retainChanges || this.#bytes > retainBytes || tooOld(records[head] as ChangeRecord))) {
      this.#bytes -= this.#sizes[head] as number;
      head += 1;
    }
    if (head === this.#head) return;
    const last = records[head - 1] as ChangeRecord;
    this.#base += head - this.#head;
    this.#head = head;
    this.#origin = last.token;
    this.#originTime = last.clusterTime;
    // Cut the dropped prefix off once it is as long as what is kept (amortised O(1) per change).
    if (head >= 1024 && head * 2 >= records.length) {
      this.#records = records.slice(head);
      this.#sizes = this.#sizes.slice(head);
      this.#head = 0;
    }
  }
}
