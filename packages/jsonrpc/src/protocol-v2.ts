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

/** Reads a JSON-RPC error object strictly: integer `code`, string `message`, optional `data`. */
export function decodeErrorObject(error: unknown): RPCError | undefined {
  if (!isJsonObject(error)) return undefined;
  const { code, message } = error;
  if (!Number.isInteger(code) || typeof message !== 'string') return undefined;
  return new RPCError(code as number, message, error['data']);
}

/** True when `params` is absent or an array or object, as JSON-RPC 2.0 requires. */
export function isValidParams(params: unknown): params is Params | undefined {
  return params === undefined || typeof params === 'object' && params !== null;
}

/**
 * Decode a request or notification object with JSON-RPC 2.0 rules. `checkVersion` is
 * false for the loose dialect, which does not insist on `"jsonrpc": "2.0"`.
 */
export function decodeCallV2(payload: Record<string, unknown>, checkVersion: boolean): DecodedMessage {
  const hasId = 'id' in payload;
  const rawId = payload['id'];
  if (hasId && !isRequestId(rawId)) return invalid(null, '"id" must be a string, a number or null');
  const id: RequestId = hasId ? (rawId as RequestId) : null;
  if (checkVersion && payload['jsonrpc'] !== '2.0') return invalid(id, '"jsonrpc" must be "2.0"');
  const method = payload['method'];
  if (typeof method !== 'string') return invalid(id, '"method" must be a string');
  const params = payload['params'];
  if (!isValidParams(params)) return invalid(id, '"params" must be an array or an object');
  return hasId
    ? { kind: MessageKind.Request, id, method, params }
    : { kind: MessageKind.Notification, method, params };
}

/** JSON-RPC 2.0, exactly as specified. The default protocol. */
export class JSONRPCv2Protocol extends Protocol {
  readonly name: string = 'JSON-RPC 2.0';
  readonly allowBatches: boolean = true;

  encodeRequest(id: RequestId, method: string, params?: Params): string {
    const head = '{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"method":' + JSON.stringify(method);
    return params === undefined ? head + '}' : head + ',"params":' + JSON.stringify(params) + '}';
  }

  encodeNotification(method: string, params?: Params): string {
    const head = '{"jsonrpc":"2.0","method":' + JSON.stringify(method);
    return params === undefined ? head + '}' : head + ',"params":' + JSON.stringify(params) + '}';
  }

  encodeResult(id: RequestId, result: unknown): string {
    return '{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":' + json(result) + '}';
  }

  encodeError(id: RequestId, error: RPCError): string {
    return '{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"error":' + errorJson(error) + '}';
  }

  decodeMessage(payload: unknown): DecodedMessage {
    if (!isJsonObject(payload)) return invalid(null, 'a message must be an object');
    if ('method' in payload) return decodeCallV2(payload, true);
    if ('result' in payload || 'error' in payload) return this.decodeResponse(payload);
    const id = payload['id'];
    return invalid(isRequestId(id) ? id : null, 'neither a request nor a response');
  }

  /** Decode a reply object. */
  protected decodeResponse(payload: Record<string, unknown>): DecodedMessage {
    const rawId = payload['id'];
    if (!isRequestId(rawId)) return badResponse(null, 'missing or invalid "id"');
    if (payload['jsonrpc'] !== '2.0') return badResponse(rawId, '"jsonrpc" must be "2.0"');
    const hasResult = 'result' in payload;
    if (hasResult && 'error' in payload) return badResponse(rawId, 'both "result" and "error"');
    if (hasResult) return { kind: MessageKind.Result, id: rawId, result: payload['result'] };
    const error = decodeErrorObject(payload['error']);
    if (!error) return badResponse(rawId, 'ill-formed error object');
    return { kind: MessageKind.Error, id: rawId, error };
  }
}

/** The JSON-RPC 2.0 protocol (default). */
export const JSONRPCv2: Protocol = new JSONRPCv2Protocol();
