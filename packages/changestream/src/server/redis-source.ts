import type { Redis } from 'ioredis';
import { makeTokenData, ORIGIN_TOKEN_DATA } from '../token.js';
import { parseWire, stringifyWire } from '../wire-json.js';
import type { ChangeRecord, ChangeSink, ChangeSource, SourceAttachment } from './source.js';

/** The stream entry field holding a change (wire JSON). */
export const REDIS_CHANGE_FIELD = 'change';

/** A change as an application writes it to the Redis stream: a change record without its position. */
export type RedisChange = Omit<ChangeRecord, 'token' | 'clusterTime' | 'wallTime'>;

/** Options of a `RedisStreamSource`. */
export interface RedisStreamSourceOptions {
  /** `redis://host:port/db` of the server holding the stream. */
  url: string;
  /** The stream key. */
  stream: string;
  /** Entries read per call (default 1000). */
  readCount?: number;
}

/**
 * Append a change to a Redis stream (`XADD key * change <json>`). Resolves the entry id,
 * which is also the change's position: its resume token is derived from it.
 */
export async function publishRedisChange(redis: Redis, stream: string, change: RedisChange): Promise<string> {
  const id = await redis.xadd(stream, '*', REDIS_CHANGE_FIELD, stringifyWire(change));
  if (id === null) throw new Error('XADD returned no id');
  return id;
}

/** Token data for a stream entry id `<ms>-<seq>`. */
export function redisTokenData(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return makeTokenData(BigInt(ms), Number(seq));
}

function toRecord(id: string, fields: string[]): ChangeRecord | undefined {
  const index = fields.indexOf(REDIS_CHANGE_FIELD);
  if (index < 0 || index % 2 !== 0) return undefined;
  let change: RedisChange;
  try {
    change = parseWire(fields[index + 1] ?? '') as RedisChange;
  } catch {
    return undefined;
  }
  if (typeof change !== 'object' || change === null || typeof change.operationType !== 'string' || typeof change.ns?.db !== 'string') return undefined;
  const [ms = '0', seq = '0'] = id.split('-');
  const millis = Number(ms);
  return {
    ...change,
    token: redisTokenData(id),
    clusterTime: { t: Math.floor(millis / 1000), i: (millis % 1000) * 1_000_000 + Number(seq) },
    wallTime: new Date(millis),
  };
}

/**
 * A change source over a Redis stream: every gateway reading the same stream derives the same
 * tokens from entry ids, so a client may resume on any of them. Entries that are not changes
 * are skipped. Entries trimmed from the stream are lost history (286).
 */
export class RedisStreamSource implements ChangeSource {
  readonly #options: RedisStreamSourceOptions;

  constructor(options: RedisStreamSourceOptions) {
    this.#options = options;
  }

  async attach(sink: ChangeSink): Promise<SourceAttachment> {
    const { url, stream } = this.#options;
    const count = this.#options.readCount ?? 1000;
    const { Redis: RedisClient } = await import('ioredis');
    const reader = new RedisClient(url, { lazyConnect: true, maxRetriesPerRequest: null });
    reader.on('error', () => undefined);
    await reader.connect();
    let stopped = false;
    const origin = await this.#origin(reader);
    let last = '0-0';
    for (;;) {
      const entries = await reader.xrange(stream, last === '0-0' ? '-' : `(${last}`, '+', 'COUNT', count);
      if (entries.length === 0) break;
      deliver(entries);
    }
    function deliver(entries: [string, string[]][]): void {
      const records: ChangeRecord[] = [];
      for (const [id, fields] of entries) {
        last = id;
        const record = toRecord(id, fields);
        if (record) records.push(record);
      }
      if (records.length > 0) sink.append(records);
    }
    const tail = (async () => {
      while (!stopped) {
        try {
          const result = await reader.xread('COUNT', count, 'BLOCK', 1000, 'STREAMS', stream, last);
          for (const [, entries] of result ?? []) deliver(entries);
        } catch {
          if (stopped) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
    return {
      origin,
      close: async () => {
        stopped = true;
        reader.disconnect();
        await tail;
      },
    };
  }

  /**
   * Where retained history starts: just before the first entry when entries were trimmed, or
   * after the newest entry deleted by `XDEL`; the origin when nothing was ever removed.
   */
  async #origin(reader: Redis): Promise<string> {
    let info: unknown[];
    try {
      info = (await reader.call('XINFO', 'STREAM', this.#options.stream)) as unknown[];
    } catch {
      // No such stream yet: nothing was ever removed.
      return ORIGIN_TOKEN_DATA;
    }
    const field = (name: string): unknown => {
      const index = info.indexOf(name);
      return index >= 0 ? info[index + 1] : undefined;
    };
    let origin = ORIGIN_TOKEN_DATA;
    const deleted = field('max-deleted-entry-id');
    if (typeof deleted === 'string' && deleted !== '0-0') origin = redisTokenData(deleted);
    const first = field('recorded-first-entry-id');
    if (Number(field('entries-added')) > Number(field('length')) && typeof first === 'string' && first !== '0-0') {
      const [ms = '0', seq = '0'] = first.split('-');
      const before = Number(seq) > 0 ? makeTokenData(BigInt(ms), Number(seq) - 1, 0xff) : makeTokenData(BigInt(ms) - 1n, 0xffffffff, 0xff);
      if (before > origin) origin = before;
    }
    return origin;
  }
}
