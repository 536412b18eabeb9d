import { MessageType } from '../message-types.js';
import type { WampMessage } from '../messages.js';

/** The message types that answer a pending request (a call's RESULT goes to `CallTable` instead). */
const ANSWERS = new Set<number>([
  MessageType.REGISTERED, MessageType.UNREGISTERED, MessageType.SUBSCRIBED, MessageType.UNSUBSCRIBED, MessageType.PUBLISHED,
]);

/** How a pending request is settled. */
export interface PendingRequest {
  /** Settle with the answering message. */
  resolve(message: WampMessage): void;
  /** Settle with an ERROR from the router, or because the session ended. */
  reject(error: Error): void;
}

/** REGISTER, UNREGISTER, SUBSCRIBE, UNSUBSCRIBE and acknowledged PUBLISH requests waiting for their answer. */
export class PendingRequests {
  readonly #pending = new Map<number, PendingRequest>();

  /** Wait for the answer to request `requestId`. */
  add(requestId: number, request: PendingRequest): void {
    this.#pending.set(requestId, request);
  }

  /** Settle the request `message` answers; messages of other types, or for no pending request, are ignored. */
  answer(message: WampMessage & { requestId: number }): void {
    if (!ANSWERS.has(message.type)) return;
    const request = this.#pending.get(message.requestId);
    if (request !== undefined) {
      this.#pending.delete(message.requestId);
      request.resolve(message);
    }
  }

  /** Reject request `requestId` (an ERROR answered it). */
  fail(requestId: number, error: Error): void {
    const request = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    request?.reject(error);
  }

  /** Reject every pending request (the session ended). */
  rejectAll(error: Error): void {
    for (const request of this.#pending.values()) request.reject(error);
    this.#pending.clear();
  }
}
