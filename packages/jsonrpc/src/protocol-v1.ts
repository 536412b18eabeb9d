import { ERROR_CODE_UNAVAILABLE } from './codes.js';
import {
  type DecodedMessage,
  isJsonObject,
  isRequestId,
  MessageKind,
  type Params,
  type RequestId,
} from './messages.js';
import { badResponse, errorJson, invalid, json, Protocol } from './protocol.js';
import { RPCError } from './rpc-error.js';

/**
 * Interpret whatever a JSON-RPC 1.0 (or loose) peer put in `error`: a string is the
 * message, a number the code, an object may carry both.
 */
export function bestEffortError(error: unknown): RPCError {
  let code = ERROR_CODE_UNAVAILABLE;
  let message = 'no error message provided';
  let data: unknown;
  if (typeof error === 'string') message = error;
  else if (Number.isInteger(error)) code = error as number;
  else if (isJsonObject(error)) {
    if (typeof error['message'] === 'string') message = error['message'];
    if (Number.isInteger(error['code'])) code = error['code'] as number;
    data = error['data'];
  }
  return new RPCError(code, message, data);
}

/**
 * JSON-RPC 1.0: every message has an `id` (`null` marks a notification), `params` is an
 * array, replies carry both `result` and `error`, and there are no batches.
 */
export class JSONRPCv1Protocol extends Protocol {
  readonly name: string = 'JSON-RPC 1.0';
  readonly allowBatches: boolean = false;

  encodeRequest(id: RequestId, method: string, params?: Params): string {
    return '{"method":' + JSON.stringify(method) + ',"params":' + positional(params) + ',"id":' + JSON.stringify(id) + '}';
  }

  encodeNotification(method: string, params?: Params): string {
    return '{"method":' + JSON.stringify(method) + ',"params":' + positional(params) + ',"id":null}';
  }

  encodeResult(id: RequestId, result: unknown): string {
    return '{"result":' + json(result) + ',"error":null,"id":' + JSON.stringify(id) + '}';
  }

  encodeError(id: RequestId, error: RPCError): string {
    return '{"result":null,"error":' + errorJson(error) + ',"id":' + JSON.stringify(id) + '}';
  }

  decodeMessage(payload: unknown): DecodedMessage {
    if (!isJsonObject(payload)) return invalid(null, 'a message must be an object');
    const rawId = payload['id'];
    const id = isRequestId(rawId) ? rawId : null;
    if ('method' in payload) {
      if (!('id' in payload)) return invalid(null, 'a JSON-RPC 1.0 request needs an "id"');
      if (!isRequestId(rawId)) return invalid(null, '"id" must be a string, a number or null');
      const method = payload['method'];
      if (typeof method !== 'string') return invalid(id, '"method" must be a string');
      const params = payload['params'] ?? [];
      if (!Array.isArray(params)) return invalid(id, 'JSON-RPC 1.0 "params" must be an array');
      return id === null
        ? { kind: MessageKind.Notification, method, params }
        : { kind: MessageKind.Request, id, method, params };
    }
    if ('result' in payload || 'error' in payload) {
      if (!isRequestId(rawId)) return badResponse(null, 'missing or invalid "id"');
      if (!('result' in payload && 'error' in payload)) return badResponse(id, 'needs both "result" and "error"');
      const error = payload['error'];
      if (error === null) return { kind: MessageKind.Result, id, result: payload['result'] };
      if (payload['result'] !== null) return badResponse(id, 'both a "result" and an "error"');
      return { kind: MessageKind.Error, id, error: bestEffortError(error) };
    }
    return invalid(id, 'neither a request nor a response');
  }
}

function positional(params: Params | undefined): string {
  if (params === undefined) return '[]';
  if (!Array.isArray(params)) throw RPCError.invalidParams('JSON-RPC 1.0 does not support named parameters');
  return JSON.stringify(params);
}

/** The JSON-RPC 1.0 protocol. */
export const JSONRPCv1: Protocol = new JSONRPCv1Protocol();
