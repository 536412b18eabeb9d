import { ProtocolError, type TransportMessage } from '@rt/transport';
import { ErrorCode, codeNameOf } from './error-codes.js';
import type { ErrorDocument } from './errors.js';
import { isResumeToken } from './token.js';
import type { ChangeStreamStageOptions, Document, Namespace, ResumeToken, Timestamp } from './types.js';
import { parseWire, stringifyWire } from './wire-json.js';

/**
 * The change stream wire protocol: JSON messages (dates and bytes tagged, see `wire-json.ts`),
 * one per transport message. The client sends requests with a numeric `id`; the server answers
 * each with one `reply` carrying the same `id`: a cursor document, or an error document.
 */

/** Open a change stream cursor (MongoDB's `aggregate` with a `$changeStream` stage). */
export const OP_WATCH = 'watch';
/** Fetch the next batch of a cursor, held by the server up to `maxAwaitTimeMS`. */
export const OP_GET_MORE = 'getMore';
/** Close cursors. */
export const OP_KILL_CURSORS = 'killCursors';
/** The server's answer to one request. */
export const OP_REPLY = 'reply';

/** Client → server: open a cursor on a namespace (`{}` = whole deployment, `{db}` = database). */
export interface WatchRequest {
  readonly op: typeof OP_WATCH;
  readonly id: number;
  readonly ns: { readonly db?: string; readonly coll?: string };
  readonly pipeline: readonly Document[];
  readonly options: ChangeStreamStageOptions;
}

/** Client → server: next batch of a cursor. */
export interface GetMoreRequest {
  readonly op: typeof OP_GET_MORE;
  readonly id: number;
  readonly cursorId: number;
  readonly batchSize?: number;
  readonly maxAwaitTimeMS?: number;
}

/** Client → server: close cursors. */
export interface KillCursorsRequest {
  readonly op: typeof OP_KILL_CURSORS;
  readonly id: number;
  readonly cursorIds: readonly number[];
}

/** Any request. */
export type Request = WatchRequest | GetMoreRequest | KillCursorsRequest;

/** The cursor part of a successful watch or getMore reply. */
export interface CursorDocument {
  /** Cursor id; 0 when the cursor is exhausted (after `invalidate`). */
  readonly id: number;
  /** `db.coll`, `db.$cmd.aggregate` or `admin.$cmd.aggregate`, as MongoDB names change stream cursors. */
  readonly ns: string;
  /** Events of a watch reply. */
  readonly firstBatch?: readonly Document[];
  /** Events of a getMore reply. */
  readonly nextBatch?: readonly Document[];
  /** The resume token of the position after this batch (advances even when nothing matched). */
  readonly postBatchResumeToken: ResumeToken;
}

/** Server → client: success. */
export interface OkReply {
  readonly op: typeof OP_REPLY;
  readonly id: number;
  readonly ok: 1;
  readonly cursor?: CursorDocument;
  readonly operationTime?: Timestamp;
  readonly cursorsKilled?: readonly number[];
  readonly cursorsNotFound?: readonly number[];
}

/** Server → client: failure. `id` is null when the request could not be read at all. */
export interface ErrorReply extends ErrorDocument {
  readonly op: typeof OP_REPLY;
  readonly id: number | null;
  readonly ok: 0;
}

/** Any reply. */
export type Reply = OkReply | ErrorReply;

/** A request that could not be decoded; carries the error document to answer with. */
export class RequestError extends ProtocolError {
  /** Id of the request when it could be read, else null. */
  readonly requestId: number | null;
  /** Error code to answer with. */
  readonly errorCode: number;

  constructor(requestId: number | null, errorCode: number, message: string) {
    super(message);
    this.requestId = requestId;
    this.errorCode = errorCode;
  }
}

const STAGE_OPTION_KEYS = new Set([
  'fullDocument',
  'fullDocumentBeforeChange',
  'resumeAfter',
  'startAfter',
  'startAtOperationTime',
  'showExpandedEvents',
  'batchSize',
]);
const FULL_DOCUMENT = new Set(['default', 'updateLookup', 'whenAvailable', 'required']);
const FULL_DOCUMENT_BEFORE_CHANGE = new Set(['off', 'whenAvailable', 'required']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** True when `value` is a `{ t, i }` timestamp of non-negative integers. */
export function isTimestamp(value: unknown): value is Timestamp {
  return isRecord(value) && isCount(value['t']) && isCount(value['i']);
}

/** Encode a request. */
export function encodeRequest(request: Request): string {
  return stringifyWire(request);
}

/** Encode a reply. */
export function encodeReply(reply: Reply): string {
  return stringifyWire(reply);
}

/**
 * Encode a cursor reply whose events are already encoded as wire JSON (so a server can encode
 * each event once and share it between cursors). Decodes with `decodeReply` like any reply.
 */
export function encodeCursorReply(
  id: number,
  cursor: { id: number; ns: string; first: boolean; encodedEvents: readonly string[]; postBatchResumeToken: string },
  operationTime: Timestamp,
): string {
  const batchField = cursor.first ? 'firstBatch' : 'nextBatch';
  return (
    `{"op":"${OP_REPLY}","id":${id},"ok":1,"cursor":{"id":${cursor.id},"ns":${JSON.stringify(cursor.ns)},` +
    `"${batchField}":[${cursor.encodedEvents.join(',')}],"postBatchResumeToken":{"_data":${JSON.stringify(cursor.postBatchResumeToken)}}},` +
    `"operationTime":{"t":${operationTime.t},"i":${operationTime.i}}}`
  );
}

/** Build an error reply. */
export function errorReply(id: number | null, code: number, errmsg: string, errorLabels: readonly string[] = []): ErrorReply {
  return { op: OP_REPLY, id, ok: 0, code, codeName: codeNameOf(code), errmsg, errorLabels };
}

function messageText(message: TransportMessage): string {
  return typeof message === 'string' ? message : new TextDecoder('utf-8', { fatal: true }).decode(message);
}

function decodeNamespace(id: number, value: unknown): WatchRequest['ns'] {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new RequestError(id, ErrorCode.TypeMismatch, 'ns must be an object');
  const { db, coll } = value;
  if (db !== undefined && (typeof db !== 'string' || db === '')) throw new RequestError(id, ErrorCode.BadValue, 'ns.db must be a non-empty string');
  if (coll !== undefined && (typeof coll !== 'string' || coll === '' || db === undefined)) {
    throw new RequestError(id, ErrorCode.BadValue, 'ns.coll must be a non-empty string and needs ns.db');
  }
  return { ...(db === undefined ? {} : { db }), ...(coll === undefined ? {} : { coll }) } as Namespace;
}

function decodeStageOptions(id: number, value: unknown): ChangeStreamStageOptions {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new RequestError(id, ErrorCode.TypeMismatch, 'options must be an object');
  for (const key of Object.keys(value)) {
    if (!STAGE_OPTION_KEYS.has(key)) throw new RequestError(id, ErrorCode.FailedToParse, `unrecognized option '${key}' in $changeStream stage`);
  }
  const options = value as ChangeStreamStageOptions & Record<string, unknown>;
  if (options.fullDocument !== undefined && !FULL_DOCUMENT.has(options.fullDocument)) {
    throw new RequestError(id, ErrorCode.BadValue, `unknown fullDocument mode ${JSON.stringify(options.fullDocument)}`);
  }
  if (options.fullDocumentBeforeChange !== undefined && !FULL_DOCUMENT_BEFORE_CHANGE.has(options.fullDocumentBeforeChange)) {
    throw new RequestError(id, ErrorCode.BadValue, `unknown fullDocumentBeforeChange mode ${JSON.stringify(options.fullDocumentBeforeChange)}`);
  }
  for (const key of ['resumeAfter', 'startAfter'] as const) {
    if (options[key] !== undefined && !isResumeToken(options[key])) throw new RequestError(id, ErrorCode.InvalidResumeToken, `${key} is not a valid resume token`);
  }
  if (options.startAtOperationTime !== undefined && !isTimestamp(options.startAtOperationTime)) {
    throw new RequestError(id, ErrorCode.TypeMismatch, 'startAtOperationTime must be a {t, i} timestamp');
  }
  const starts = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter((key) => options[key] !== undefined);
  if (starts.length > 1) throw new RequestError(id, ErrorCode.BadValue, `only one of resumeAfter, startAfter, startAtOperationTime may be given, got ${starts.join(', ')}`);
  if (options.showExpandedEvents !== undefined && typeof options.showExpandedEvents !== 'boolean') {
    throw new RequestError(id, ErrorCode.TypeMismatch, 'showExpandedEvents must be a boolean');
  }
  if (options.batchSize !== undefined && !isCount(options.batchSize)) throw new RequestError(id, ErrorCode.BadValue, 'batchSize must be a non-negative integer');
  return options;
}

/** Decode a request; throws `RequestError` (a `ProtocolError`) with the error code to answer. */
export function decodeRequest(message: TransportMessage): Request {
  let value: unknown;
  try {
    value = parseWire(messageText(message));
  } catch {
    throw new RequestError(null, ErrorCode.FailedToParse, 'malformed message: not valid JSON');
  }
  if (!isRecord(value)) throw new RequestError(null, ErrorCode.FailedToParse, 'malformed message: not an object');
  const { op, id } = value;
  if (!isCount(id)) throw new RequestError(null, ErrorCode.FailedToParse, 'malformed message: id must be a non-negative integer');
  switch (op) {
    case OP_WATCH: {
      const pipeline = value['pipeline'] ?? [];
      if (!Array.isArray(pipeline) || !pipeline.every(isRecord)) throw new RequestError(id, ErrorCode.TypeMismatch, 'pipeline must be an array of stage documents');
      return { op, id, ns: decodeNamespace(id, value['ns']), pipeline, options: decodeStageOptions(id, value['options']) };
    }
    case OP_GET_MORE: {
      const { cursorId, batchSize, maxAwaitTimeMS } = value;
      if (!isCount(cursorId) || cursorId === 0) throw new RequestError(id, ErrorCode.TypeMismatch, 'getMore needs a positive integer cursorId');
      if (batchSize !== undefined && !isCount(batchSize)) throw new RequestError(id, ErrorCode.BadValue, 'batchSize must be a non-negative integer');
      if (maxAwaitTimeMS !== undefined && !isCount(maxAwaitTimeMS)) throw new RequestError(id, ErrorCode.BadValue, 'maxAwaitTimeMS must be a non-negative integer');
      return {
        op,
        id,
        cursorId,
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(maxAwaitTimeMS === undefined ? {} : { maxAwaitTimeMS }),
      };
    }
    case OP_KILL_CURSORS: {
      const { cursorIds } = value;
      if (!Array.isArray(cursorIds) || !cursorIds.every(isCount)) throw new RequestError(id, ErrorCode.TypeMismatch, 'cursorIds must be an array of integers');
      return { op, id, cursorIds };
    }
    default:
      throw new RequestError(id, ErrorCode.CommandNotFound, `no such command: ${JSON.stringify(op)}`);
  }
}

/** Decode a reply; throws `ProtocolError` when it is not one. */
export function decodeReply(message: TransportMessage): Reply {
  let value: unknown;
  try {
    value = parseWire(messageText(message));
  } catch (error) {
    throw new ProtocolError('malformed reply', { cause: error });
  }
  if (!isRecord(value) || value['op'] !== OP_REPLY) throw new ProtocolError('expected a reply message');
  const { id, ok } = value;
  if (ok === 0) {
    if (id !== null && !isCount(id)) throw new ProtocolError('reply id must be an integer or null');
    const { code, codeName, errmsg, errorLabels } = value;
    if (typeof code !== 'number' || typeof errmsg !== 'string') throw new ProtocolError('error reply needs code and errmsg');
    const labels = Array.isArray(errorLabels) ? errorLabels.filter((label): label is string => typeof label === 'string') : [];
    return { op: OP_REPLY, id, ok: 0, code, codeName: typeof codeName === 'string' ? codeName : codeNameOf(code), errmsg, errorLabels: labels };
  }
  if (ok !== 1 || !isCount(id)) throw new ProtocolError('reply needs ok 0 or 1 and an integer id');
  const cursor = value['cursor'];
  if (cursor !== undefined) {
    if (!isRecord(cursor) || !isCount(cursor['id']) || !isResumeToken(cursor['postBatchResumeToken'])) {
      throw new ProtocolError('reply cursor needs id and postBatchResumeToken');
    }
    const batch = cursor['firstBatch'] ?? cursor['nextBatch'];
    if (!Array.isArray(batch)) throw new ProtocolError('reply cursor needs firstBatch or nextBatch');
  }
  if (value['operationTime'] !== undefined && !isTimestamp(value['operationTime'])) throw new ProtocolError('operationTime must be a timestamp');
  return value as unknown as OkReply;
}
