/**
 * How much change history a log keeps for resuming. Each bound is checked as changes arrive;
 * the oldest changes are dropped until every bound holds (the newest change is always kept).
 * A resume token or operation time older than what is kept gets `ChangeStreamHistoryLost` (286).
 */
export interface RetentionPolicy {
  /** Most changes kept. */
  retainChanges?: number;
  /** Most bytes of changes kept (their encoded size on disk, or an estimate in memory). */
  retainBytes?: number;
  /** Changes older than this many milliseconds (by wall time) are dropped. */
  retainMs?: number;
}

/**
 * Default retention of a durable change history (an embedded store's, a `PostgresSource`'s
 * durable copy): 100 000 changes, 64 MiB (estimated), no age limit.
 */
export const DEFAULT_STORE_RETENTION: Readonly<RetentionPolicy> = { retainChanges: 100_000, retainBytes: 64 * 1024 * 1024 };

/** Default growth of a durable log file, since its last compaction, that starts a compaction. */
export const DEFAULT_COMPACT_AFTER_BYTES = 16 * 1024 * 1024;

/** A policy with every bound filled in (`Infinity` when unbounded). */
export interface ResolvedRetention {
  readonly retainChanges: number;
  readonly retainBytes: number;
  readonly retainMs: number;
}

function bound(value: number | undefined, fallback: number, name: string): number {
  const chosen = value ?? fallback;
  if (!(chosen >= 1)) throw new RangeError(`${name} must be at least 1 (got ${String(value)})`);
  return chosen;
}

/** Fill in a policy's missing bounds from `defaults`; throws `RangeError` for a bound below 1. */
export function resolveRetention(policy: RetentionPolicy, defaults: RetentionPolicy): ResolvedRetention {
  return {
    retainChanges: bound(policy.retainChanges, defaults.retainChanges ?? Infinity, 'retainChanges'),
    retainBytes: bound(policy.retainBytes, defaults.retainBytes ?? Infinity, 'retainBytes'),
    retainMs: bound(policy.retainMs, defaults.retainMs ?? Infinity, 'retainMs'),
  };
}

/**
 * A cheap estimate of a value's size in memory-ish bytes (strings by length, numbers 8 bytes,
 * plus a little per field), used to bound retained history without encoding it.
 */
export function approximateSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 4;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Date) return 8;
      if (value instanceof Uint8Array) return value.byteLength + 4;
      let size = 8;
      if (Array.isArray(value)) {
        for (const item of value) size += approximateSize(item);
        return size;
      }
      for (const key in value) size += key.length + 4 + approximateSize((value as Record<string, unknown>)[key]);
      return size;
    }
    default:
      return 1;
  }
}
