import { ChangeStreamError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { invalidateTokenData } from '../token.js';
import type { ChangeStreamStageOptions, Document } from '../types.js';
import { stringifyWire } from '../wire-json.js';
import type { ChangeRecord } from './source.js';

/** Looks up the current version of a document (`updateLookup`). */
export type DocumentLookup = (record: ChangeRecord) => Promise<Document | null>;

const WITH_POST_IMAGE = new Set(['insert', 'replace']);
const WITH_PRE_IMAGE = new Set(['update', 'replace', 'delete']);

/** Event types that only streams with `showExpandedEvents` see. */
export const EXPANDED_EVENTS: ReadonlySet<string> = new Set([
  'create',
  'createIndexes',
  'dropIndexes',
  'modify',
  'shardCollection',
  'refineCollectionShardKey',
  'reshardCollection',
]);

function missingImage(kind: string, record: ChangeRecord): ChangeStreamError {
  return new ChangeStreamError(
    ErrorCode.NoMatchingDocument,
    `change stream requires a ${kind} for every ${record.operationType} event, but none is available for ${JSON.stringify(record.documentKey)}`,
  );
}

/**
 * Shape a record as the change event a cursor with `options` sees. Resolves asynchronously
 * only for `updateLookup` on updates.
 */
export function renderEvent(
  record: ChangeRecord,
  options: ChangeStreamStageOptions,
  lookup: DocumentLookup | undefined,
): Document | Promise<Document> {
  const event: Record<string, unknown> = {
    _id: { _data: record.token },
    operationType: record.operationType,
    clusterTime: record.clusterTime,
    wallTime: record.wallTime,
  };
  const type = record.operationType;
  const fullDocumentMode = options.fullDocument ?? 'default';
  let pending: Promise<Document | null> | undefined;
  if (WITH_POST_IMAGE.has(type)) event['fullDocument'] = record.fullDocument ?? null;
  else if (type === 'update') {
    if (fullDocumentMode === 'updateLookup') {
      if (lookup) pending = lookup(record);
      else event['fullDocument'] = record.fullDocument ?? null;
    } else if (fullDocumentMode === 'whenAvailable') event['fullDocument'] = record.fullDocument ?? null;
    else if (fullDocumentMode === 'required') {
      if (record.fullDocument == null) throw missingImage('post-image', record);
      event['fullDocument'] = record.fullDocument;
    }
  }
  event['ns'] = record.ns;
  if (record.to !== undefined) event['to'] = record.to;
  if (record.documentKey !== undefined) event['documentKey'] = record.documentKey;
  if (record.updateDescription !== undefined) event['updateDescription'] = record.updateDescription;
  const beforeMode = options.fullDocumentBeforeChange ?? 'off';
  if (beforeMode !== 'off' && WITH_PRE_IMAGE.has(type)) {
    if (beforeMode === 'required' && record.fullDocumentBeforeChange == null) throw missingImage('pre-image', record);
    event['fullDocumentBeforeChange'] = record.fullDocumentBeforeChange ?? null;
  }
  if (pending === undefined) return event;
  return pending.then((current) => {
    // Keep MongoDB's field order: the looked-up document comes before `ns`.
    const { _id, operationType, clusterTime, wallTime, ...rest } = event;
    return { _id, operationType, clusterTime, wallTime, fullDocument: current, ...rest };
  });
}

/** The `invalidate` event that ends a stream after `record` (a drop, rename or dropDatabase). */
export function renderInvalidate(record: ChangeRecord): Document {
  return {
    _id: { _data: invalidateTokenData(record.token) },
    operationType: 'invalidate',
    clusterTime: record.clusterTime,
    wallTime: record.wallTime,
  };
}

/** Wire JSON of rendered events, per record, for the default image options (the common case). */
const defaultEncoded = new WeakMap<ChangeRecord, string>();
/** The same for other image options, keyed by `fullDocument/fullDocumentBeforeChange`. */
const variantEncoded = new WeakMap<ChangeRecord, Map<string, string>>();

/**
 * The wire JSON of `record` as a cursor with `options` and no pipeline sees it, encoded once
 * and cached; `undefined` when the event cannot be cached (`updateLookup` reads live data).
 */
export function cachedEncodedEvent(record: ChangeRecord, options: ChangeStreamStageOptions): string | undefined {
  const fullDocument = options.fullDocument ?? 'default';
  const before = options.fullDocumentBeforeChange ?? 'off';
  if (fullDocument === 'updateLookup' && record.operationType === 'update') return undefined;
  if (fullDocument === 'default' && before === 'off') {
    let encoded = defaultEncoded.get(record);
    if (encoded === undefined) {
      encoded = stringifyWire(renderEvent(record, options, undefined));
      defaultEncoded.set(record, encoded);
    }
    return encoded;
  }
  const variant = `${fullDocument}/${before}`;
  let variants = variantEncoded.get(record);
  let encoded = variants?.get(variant);
  if (encoded === undefined) {
    encoded = stringifyWire(renderEvent(record, options, undefined));
    if (!variants) {
      variants = new Map();
      variantEncoded.set(record, variants);
    }
    variants.set(variant, encoded);
  }
  return encoded;
}
