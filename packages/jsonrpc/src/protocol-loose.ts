import { type DecodedMessage, isJsonObject, isRequestId, MessageKind } from './messages.js';
import { badResponse, invalid } from './protocol.js';
import { bestEffortError } from './protocol-v1.js';
import { decodeCallV2, JSONRPCv2Protocol } from './protocol-v2.js';

/**
 * A forgiving dialect for peers that mix 1.0 and 2.0 habits: `"jsonrpc"` is optional,
 * error objects are read on a best-effort basis, a `null` error beside a result is ignored.
 * Everything it sends is strict JSON-RPC 2.0, so the peer can recognise it.
 */
export class JSONRPCLooseProtocol extends JSONRPCv2Protocol {
  override readonly name: string = 'JSON-RPC (loose)';

  override decodeMessage(payload: unknown): DecodedMessage {
    if (!isJsonObject(payload)) return invalid(null, 'a message must be an object');
    if ('method' in payload) return decodeCallV2(payload, false);
    if ('result' in payload || 'error' in payload) return this.decodeResponse(payload);
    const id = payload['id'];
    return invalid(isRequestId(id) ? id : null, 'neither a request nor a response');
  }

  protected override decodeResponse(payload: Record<string, unknown>): DecodedMessage {
    const id = payload['id'];
    if (!isRequestId(id)) return badResponse(null, 'missing or invalid "id"');
    const error = payload['error'];
    if (error !== null && error !== undefined) {
      const result = payload['result'];
      if (result !== null && result !== undefined) return badResponse(id, 'both a "result" and an "error"');
      return { kind: MessageKind.Error, id, error: bestEffortError(error) };
    }
    if (!('result' in payload)) return badResponse(id, 'neither "result" nor "error"');
    return { kind: MessageKind.Result, id, result: payload['result'] };
  }
}

/** The loose protocol. */
export const JSONRPCLoose: JSONRPCLooseProtocol = new JSONRPCLooseProtocol();
