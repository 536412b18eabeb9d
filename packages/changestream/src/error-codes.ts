/** Error codes used in change stream error documents (MongoDB's numbering where one exists). */
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  NamespaceNotFound: 26,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  CursorNotFound: 43,
  NoMatchingDocument: 47,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  ShutdownInProgress: 91,
  InvalidPipelineOperator: 168,
  CursorKilled: 237,
  InvalidResumeToken: 260,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  DuplicateKey: 11000,
  UnrecognizedPipelineStage: 40324,
  /** rt-specific: the connection already holds the maximum number of open cursors. */
  TooManyCursors: 90001,
} as const;

/** One of the known error codes. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
NAMES.set(ErrorCode.UnrecognizedPipelineStage, 'Location40324');

/** The `codeName` MongoDB uses for a code (`UnknownError` for codes it does not know). */
export function codeNameOf(code: number): string {
  return NAMES.get(code) ?? 'UnknownError';
}

/** Error label that marks an error after which a change stream may resume. */
export const RESUMABLE_LABEL = 'ResumableChangeStreamError';
