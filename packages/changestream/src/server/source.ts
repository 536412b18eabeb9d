import type { Document, Namespace, OperationType, Timestamp, UpdateDescription } from '../types.js';

/**
 * One change as a source records it, before any cursor shapes it. Images are kept whenever the
 * source knows them; each cursor decides, from its options, which to show.
 */
export interface ChangeRecord {
  /** Token data (see `token.ts`): strictly increasing within a source. */
  readonly token: string;
  readonly clusterTime: Timestamp;
  readonly wallTime: Date;
  readonly operationType: OperationType;
  readonly ns: Namespace;
  /** For `rename`: the new namespace. */
  readonly to?: Namespace;
  readonly documentKey?: Document;
  readonly updateDescription?: UpdateDescription;
  /** The document after the change (insert, replace, and update when the source knows it). */
  readonly fullDocument?: Document | null;
  /** The document before the change (update, replace, delete), when the source knows it. */
  readonly fullDocumentBeforeChange?: Document | null;
}

/** Where a source delivers its changes. */
export interface ChangeSink {
  /**
   * Hand over changes in token order. Changes at or before the last appended token are
   * ignored, so a source may replay safely. Returns once they are in the retained log.
   */
  append(records: readonly ChangeRecord[]): void;
}

/** A source's delivery to one sink, from `attach` until `close`. */
export interface SourceAttachment {
  /**
   * Token data of the earliest retained position: a resume token at or after it can be
   * served; an older one gets `ChangeStreamHistoryLost` (286).
   */
  readonly origin: string;
  /** Cluster time of the origin's change, when known (serves `startAtOperationTime` at it). */
  readonly originTime?: Timestamp;
  /** Stop delivering changes to the sink. */
  close(): Promise<void>;
}

/**
 * A change source: an embedded store, a database's replication stream, a Redis stream. A
 * server attaches to it once and keeps one retained log of its changes for every cursor.
 */
export interface ChangeSource {
  /**
   * Start delivering changes to `sink`: first the retained history, then new changes as they
   * happen. Resolves once the history known at that moment has been appended.
   */
  attach(sink: ChangeSink): Promise<SourceAttachment>;
  /** The current version of a document, for `fullDocument: 'updateLookup'`. */
  lookup?(ns: Namespace, documentKey: Document): Promise<Document | null>;
}
