import { ChangeStreamError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { invalidateTokenData, splitTokenData, TOKEN_KIND_INVALIDATE } from '../token.js';
import type { ChangeStreamStageOptions, Document } from '../types.js';
import type { ChangeLog } from './change-log.js';
import { IDENTITY_PIPELINE, pipelineError, type CompiledPipeline } from './pipeline.js';
import { cachedEncodedEvent, EXPANDED_EVENTS, renderEvent, renderInvalidate, type DocumentLookup } from './render.js';
import { stringifyWire } from '../wire-json.js';
import type { ChangeRecord } from './source.js';

/** What a cursor watches: everything, one database, or one collection. */
export interface CursorScope {
  readonly db?: string;
  readonly coll?: string;
}

/** One batch of a cursor. */
export interface CursorBatch {
  /** The batch's events, each encoded as wire JSON. */
  readonly events: string[];
  /** Token data of the position after this batch. */
  readonly postBatchResumeToken: string;
  /** True when the cursor is finished (it returned `invalidate`). */
  readonly exhausted: boolean;
}

/** What a cursor needs to run. */
export interface CursorOptions {
  readonly id: number;
  readonly log: ChangeLog;
  readonly scope: CursorScope;
  readonly pipeline: CompiledPipeline;
  readonly options: ChangeStreamStageOptions;
  readonly lookup: DocumentLookup | undefined;
  /** Records examined per batch before an empty batch is returned anyway. */
  readonly scanLimit?: number;
}

function historyLost(): ChangeStreamError {
  return new ChangeStreamError(
    ErrorCode.ChangeStreamHistoryLost,
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
  );
}

/** The start position of a new cursor, from its options. Throws 286 or 260 when impossible. */
export function startPosition(log: ChangeLog, options: ChangeStreamStageOptions): string {
  const token = options.resumeAfter ?? options.startAfter;
  if (token !== undefined) {
    if (options.resumeAfter !== undefined && splitTokenData(token._data).kind === TOKEN_KIND_INVALIDATE) {
      throw new ChangeStreamError(
        ErrorCode.InvalidResumeToken,
        'cannot resume a stream after an invalidate event with resumeAfter; use startAfter',
      );
    }
    if (log.isLost(token._data)) throw historyLost();
    return token._data;
  }
  if (options.startAtOperationTime !== undefined) {
    const position = log.positionForTime(options.startAtOperationTime);
    if (position === undefined) throw historyLost();
    return position;
  }
  return log.headToken;
}

/**
 * A server-side change stream cursor: a position in the shared log plus a compiled pipeline.
 * Each batch scans forward from the position, shapes matching records and runs the pipeline.
 */
export class ServerCursor {
  readonly id: number;
  readonly #log: ChangeLog;
  readonly #scope: CursorScope;
  readonly #pipeline: CompiledPipeline;
  readonly #options: ChangeStreamStageOptions;
  readonly #lookup: DocumentLookup | undefined;
  readonly #scanLimit: number;
  #position: string;
  #hint: number | undefined;
  #pendingInvalidate: ChangeRecord | undefined;
  #exhausted = false;

  constructor(options: CursorOptions) {
    this.id = options.id;
    this.#log = options.log;
    this.#scope = options.scope;
    this.#pipeline = options.pipeline;
    this.#options = options.options;
    this.#lookup = options.lookup;
    this.#scanLimit = options.scanLimit ?? 10_000;
    this.#position = startPosition(options.log, options.options);
    if (options.options.resumeAfter !== undefined) {
      // Resuming right after the event that ends the stream: the invalidate comes next.
      const index = this.#log.indexAfter(this.#position) - 1;
      const record = this.#log.at(index);
      if (record?.token === this.#position && this.#invalidates(record)) this.#pendingInvalidate = record;
    }
  }

  /** MongoDB's namespace string for this cursor. */
  get namespace(): string {
    if (this.#scope.db === undefined) return 'admin.$cmd.aggregate';
    return this.#scope.coll === undefined ? `${this.#scope.db}.$cmd.aggregate` : `${this.#scope.db}.${this.#scope.coll}`;
  }

  /** Token data of the cursor's position. */
  get position(): string {
    return this.#position;
  }

  /**
   * Read up to `batchSize` events. With `maxAwaitMs > 0`, wait up to that long for the first
   * one; an empty batch still advances the post-batch resume token past filtered records.
   */
  async nextBatch(batchSize: number, maxAwaitMs: number, signal: AbortSignal): Promise<CursorBatch> {
    const events: string[] = [];
    const deadline = Date.now() + maxAwaitMs;
    for (;;) {
      if (this.#log.isLost(this.#position)) throw historyLost();
      if (this.#pendingInvalidate !== undefined) {
        this.#finish(events, this.#pendingInvalidate);
        return this.#batch(events);
      }
      let index = this.#log.indexAfter(this.#position, this.#hint);
      let scanned = 0;
      while (events.length < batchSize && index < this.#log.end && scanned < this.#scanLimit && !this.#exhausted) {
        const record = this.#log.at(index) as ChangeRecord;
        index += 1;
        scanned += 1;
        this.#position = record.token;
        this.#hint = index;
        if (!this.#inScope(record)) continue;
        if (record.operationType === 'dropDatabase' && this.#scope.coll !== undefined) {
          this.#finish(events, record, batchSize);
          continue;
        }
        if (this.#options.showExpandedEvents !== true && EXPANDED_EVENTS.has(record.operationType)) continue;
        const cached = this.#pipeline === IDENTITY_PIPELINE ? cachedEncodedEvent(record, this.#options) : undefined;
        if (cached !== undefined) events.push(cached);
        else {
          const rendered = renderEvent(record, this.#options, this.#lookup);
          const output = this.#shape(record, rendered instanceof Promise ? await rendered : rendered);
          if (output !== null) events.push(stringifyWire(output));
        }
        if (this.#invalidates(record)) this.#finish(events, record, batchSize);
      }
      if (events.length > 0 || scanned >= this.#scanLimit || this.#exhausted) return this.#batch(events);
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal.aborted) return this.#batch(events);
      await this.#log.waitFor(index, signal, remaining);
    }
  }

  #batch(events: string[]): CursorBatch {
    return { events, postBatchResumeToken: this.#position, exhausted: this.#exhausted };
  }

  /** Append the invalidate for `record` (or keep it for the next batch when this one is full). */
  #finish(events: string[], record: ChangeRecord, batchSize = Number.POSITIVE_INFINITY): void {
    if (events.length >= batchSize) {
      this.#pendingInvalidate = record;
      return;
    }
    this.#pendingInvalidate = undefined;
    events.push(stringifyWire(renderInvalidate(record)));
    this.#position = invalidateTokenData(record.token);
    this.#exhausted = true;
  }

  #shape(record: ChangeRecord, event: Document): Document | null {
    let output: Document | null;
    try {
      output = this.#pipeline(event);
    } catch (error) {
      throw pipelineError(error);
    }
    if (output === null) return null;
    const id = output['_id'] as { _data?: unknown } | undefined;
    if (typeof id !== 'object' || id === null || id._data !== record.token || Object.keys(id).length !== 1) {
      throw new ChangeStreamError(
        ErrorCode.ChangeStreamFatalError,
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline.',
      );
    }
    return output;
  }

  #inScope(record: ChangeRecord): boolean {
    const { db, coll } = this.#scope;
    if (db === undefined) return true;
    if (record.ns.db !== db) return false;
    if (coll === undefined || record.operationType === 'dropDatabase') return true;
    return record.ns.coll === coll;
  }

  #invalidates(record: ChangeRecord): boolean {
    const { db, coll } = this.#scope;
    if (db === undefined || record.ns.db !== db) return false;
    if (record.operationType === 'dropDatabase') return true;
    if (coll === undefined) return false;
    return (record.operationType === 'drop' || record.operationType === 'rename') && record.ns.coll === coll;
  }
}
