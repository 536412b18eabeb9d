import { ChangeStreamError } from '../errors.js';

/** A write refused by the embedded store (duplicate key 11000, bad update document, ...). */
export class WriteError extends ChangeStreamError {
  constructor(code: number, message: string) {
    super(code, message);
    this.name = 'WriteError';
  }
}

/** One refused document of a bulk insert, as MongoDB reports it. */
export interface BulkWriteErrorDetail {
  /** Position of the refused document in the batch. */
  readonly index: number;
  /** Error code (11000 for a duplicate `_id`). */
  readonly code: number;
  /** Name of the code. */
  readonly codeName: string;
  /** Error message. */
  readonly errmsg: string;
}

/**
 * `insertMany` refused some documents. The documents it did insert are durable: `insertedCount`
 * and `insertedIds` (keyed by batch position) say which. Ordered inserts stop at the first
 * refusal; unordered ones report every refusal. `code` is that of the first write error.
 */
export class BulkWriteError extends WriteError {
  /** Every refused document, in batch order. */
  readonly writeErrors: readonly BulkWriteErrorDetail[];
  /** Number of documents inserted. */
  readonly insertedCount: number;
  /** `_id` of each inserted document, keyed by its position in the batch. */
  readonly insertedIds: Readonly<Record<number, unknown>>;

  constructor(writeErrors: readonly BulkWriteErrorDetail[], insertedIds: Readonly<Record<number, unknown>>) {
    const first = writeErrors[0] as BulkWriteErrorDetail;
    super(first.code, writeErrors.length === 1 ? first.errmsg : `${first.errmsg} (and ${writeErrors.length - 1} more write errors)`);
    this.name = 'BulkWriteError';
    this.writeErrors = writeErrors;
    this.insertedIds = insertedIds;
    this.insertedCount = Object.keys(insertedIds).length;
  }
}
