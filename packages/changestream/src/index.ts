/**
 * `@rt/changestream`: resumable change streams with Motor's API, following the MongoDB driver
 * Change Streams specification. Browser-safe: imports no Node built-ins.
 * @packageDocumentation
 */
export { ChangeStreamClient, ChangeStreamCollection, ChangeStreamDb } from './client.js';
export type { ChangeStreamClientOptions, Connector } from './client.js';
export { ChangeStream } from './change-stream.js';
export type { ChangeStreamEvents, StreamTarget } from './change-stream.js';
export { ChangeStreamError, isResumableError } from './errors.js';
export type { ErrorDocument } from './errors.js';
export { ErrorCode, RESUMABLE_LABEL, codeNameOf } from './error-codes.js';
export type { ErrorCodeValue } from './error-codes.js';
export {
  OP_GET_MORE,
  OP_KILL_CURSORS,
  OP_REPLY,
  OP_WATCH,
  RequestError,
  decodeReply,
  decodeRequest,
  encodeCursorReply,
  encodeReply,
  encodeRequest,
  errorReply,
  isTimestamp,
} from './protocol.js';
export type { CursorDocument, ErrorReply, GetMoreRequest, KillCursorsRequest, OkReply, Reply, Request, WatchRequest } from './protocol.js';
export { isResumeToken } from './token.js';
export { fromWireValue, parseWire, stringifyWire, toWireValue } from './wire-json.js';
export type {
  ChangeStreamDocument,
  ChangeStreamStageOptions,
  Document,
  FullDocumentBeforeChangeMode,
  FullDocumentMode,
  Namespace,
  OperationType,
  ResumeToken,
  Timestamp,
  UpdateDescription,
  WatchOptions,
} from './types.js';
