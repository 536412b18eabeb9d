/** A plain document: what a change carries and what a pipeline transforms. */
export type Document = Record<string, unknown>;

/**
 * An opaque resume token, as MongoDB shapes it. `_data` is a fixed-width hexadecimal
 * string; two tokens from the same source compare in log order by comparing `_data`.
 */
export interface ResumeToken {
  readonly _data: string;
}

/** A logical cluster time (MongoDB's BSON Timestamp): seconds `t` and an increment `i`. */
export interface Timestamp {
  readonly t: number;
  readonly i: number;
}

/** Where a change happened. `coll` is absent for database-level events. */
export interface Namespace {
  readonly db: string;
  readonly coll?: string;
}

/** What an update changed, with dotted field paths. */
export interface UpdateDescription {
  readonly updatedFields: Document;
  readonly removedFields: readonly string[];
  readonly truncatedArrays: readonly { readonly field: string; readonly newSize: number }[];
}

/** The documented operation types; the client tolerates any other string. */
export type OperationType =
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'drop'
  | 'rename'
  | 'dropDatabase'
  | 'invalidate'
  | 'create'
  | (string & {});

/** One change event, shaped as MongoDB's change stream output. */
export interface ChangeStreamDocument<TSchema extends Document = Document> {
  /** The resume token of this event. */
  readonly _id: ResumeToken;
  readonly operationType: OperationType;
  readonly ns?: Namespace;
  /** For `rename`: the new namespace. */
  readonly to?: Namespace;
  readonly documentKey?: Document;
  readonly updateDescription?: UpdateDescription;
  /** Post-image: always for insert/replace, for updates per the `fullDocument` option. */
  readonly fullDocument?: TSchema | null;
  /** Pre-image, per the `fullDocumentBeforeChange` option. */
  readonly fullDocumentBeforeChange?: TSchema | null;
  readonly clusterTime?: Timestamp;
  readonly wallTime?: Date;
}

/** `fullDocument` option values. */
export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
/** `fullDocumentBeforeChange` option values. */
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

/** Options sent to the server with a watch request (the `$changeStream` stage options). */
export interface ChangeStreamStageOptions {
  fullDocument?: FullDocumentMode;
  fullDocumentBeforeChange?: FullDocumentBeforeChangeMode;
  resumeAfter?: ResumeToken;
  startAfter?: ResumeToken;
  startAtOperationTime?: Timestamp;
  showExpandedEvents?: boolean;
  /** Maximum number of events in the first batch. */
  batchSize?: number;
}

/** Options of `watch()`. */
export interface WatchOptions extends ChangeStreamStageOptions {
  /** How long the server may hold a `getMore` waiting for changes. Default 1000. */
  maxAwaitTimeMS?: number;
  /** Closes the stream when aborted. */
  signal?: AbortSignal;
}
