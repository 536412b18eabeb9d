/**
 * JSON-RPC error codes. The first five are fixed by the JSON-RPC 2.0 specification;
 * the rest are in the range the specification leaves to implementations.
 */

/** Invalid JSON was received. */
export const PARSE_ERROR = -32700;
/** The JSON sent is not a valid request object. */
export const INVALID_REQUEST = -32600;
/** The method does not exist or is not available. */
export const METHOD_NOT_FOUND = -32601;
/** Invalid method parameters. */
export const INVALID_PARAMS = -32602;
/** Internal JSON-RPC error (also: a handler threw something that is not an `RPCError`). */
export const INTERNAL_ERROR = -32603;
/** The peer cancelled the request (LSP's `RequestCancelled`, sent after `$/cancelRequest`). */
export const REQUEST_CANCELLED = -32800;
/** A JSON-RPC 1.0 error arrived without a usable code. */
export const ERROR_CODE_UNAVAILABLE = -100;
/** The session used too many resources; the server disconnects after sending this. */
export const EXCESSIVE_RESOURCE_USAGE = -101;
/** The request took longer than the processing timeout. */
export const SERVER_BUSY = -102;
