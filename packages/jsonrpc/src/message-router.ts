import type { CallReply, IncomingCalls } from './incoming-calls.js';
import {
  type DecodedMessage,
  isJsonObject,
  isRequestId,
  MessageKind,
  type NotificationMessage,
  type RequestId,
} from './messages.js';
import type { OutgoingCalls } from './outgoing-calls.js';
import type { Protocol } from './protocol.js';
import type { RPCError } from './rpc-error.js';

/** What routing needs from its session. */
export interface RouterHost {
  /** Send a reply (dropped when the connection is gone). */
  reply(text: string): void;
  /** Count an error the peer caused, at the default error cost. */
  chargeError(): void;
  /** A reply matched no request (the session's `unmatchedResponse` hook). */
  unmatched(id: RequestId, error: RPCError | undefined): void;
}

/**
 * The one dispatch switch of a session: calls go to `IncomingCalls`, replies settle
 * `OutgoingCalls`, invalid messages are answered with their error. Batches are answered
 * with one array once every call in them is answered.
 */
export class MessageRouter {
  readonly #incoming: IncomingCalls;
  readonly #outgoing: OutgoingCalls;
  readonly #cancelMethod: string | null;
  readonly #host: RouterHost;

  constructor(incoming: IncomingCalls, outgoing: OutgoingCalls, cancelMethod: string | null, host: RouterHost) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.#cancelMethod = cancelMethod;
    this.#host = host;
  }

  readonly #replyIfAny = (reply: string | undefined): void => {
    if (reply !== undefined) this.#host.reply(reply);
  };

  /** Handle one message (not in a batch). */
  dispatch(protocol: Protocol, message: DecodedMessage): void {
    switch (message.kind) {
      case MessageKind.Request: {
        const reply = this.#incoming.run(protocol, message);
        if (typeof reply === 'string') this.#host.reply(reply);
        else if (reply) void reply.then(this.#replyIfAny);
        return;
      }
      case MessageKind.Notification:
        if (message.method === this.#cancelMethod) this.#cancelIncoming(message);
        else void this.#incoming.run(protocol, message);
        return;
      case MessageKind.Result:
        if (!this.#outgoing.resolve(message.id, message.result)) this.#unmatched(message.id, undefined);
        return;
      case MessageKind.Error:
        if (!this.#outgoing.reject(message.id, message.error)) this.#unmatched(message.id, message.error);
        return;
      case MessageKind.BadResponse:
        this.#host.chargeError();
        if (message.id === null || !this.#outgoing.reject(message.id, message.error)) {
          this.#host.unmatched(message.id, message.error);
        }
        return;
      case MessageKind.Invalid:
        this.#host.chargeError();
        this.#host.reply(protocol.encodeError(message.id, message.error));
        return;
    }
  }

  /** Handle a batch: its calls are answered with one array; id-null errors in it settle what they can. */
  dispatchBatch(protocol: Protocol, messages: readonly DecodedMessage[]): void {
    const replies: CallReply[] = [];
    const answered: RequestId[] = [];
    const idNullErrors: RPCError[] = [];
    for (const message of messages) {
      if (message.kind === MessageKind.Request) replies.push(this.#incoming.run(protocol, message));
      else if (message.kind === MessageKind.Invalid) {
        this.#host.chargeError();
        replies.push(protocol.encodeError(message.id, message.error));
      } else if (message.kind === MessageKind.Error && message.id === null) idNullErrors.push(message.error);
      else {
        if (message.kind !== MessageKind.Notification && message.id !== null) answered.push(message.id);
        this.dispatch(protocol, message);
      }
    }
    if (idNullErrors.length > 0 && !this.#outgoing.rejectInBatch(idNullErrors, answered)) {
      for (const error of idNullErrors) this.#unmatched(null, error);
    }
    if (replies.length === 0) return;
    const sendParts = (parts: readonly (string | undefined)[]): void => {
      const texts = parts.filter((part): part is string => part !== undefined);
      if (texts.length > 0) this.#host.reply(protocol.encodeBatch(texts));
    };
    if (replies.every((reply) => typeof reply !== 'object')) sendParts(replies as (string | undefined)[]);
    else void Promise.all(replies).then(sendParts);
  }

  #unmatched(id: RequestId, error: RPCError | undefined): void {
    this.#host.chargeError();
    this.#host.unmatched(id, error);
  }

  #cancelIncoming(message: NotificationMessage): void {
    const params = message.params;
    const id = isJsonObject(params) ? params['id'] : undefined;
    if (isRequestId(id)) this.#incoming.cancel(id);
  }
}
