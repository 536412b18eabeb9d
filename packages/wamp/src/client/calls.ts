import { MessageType } from '../message-types.js';
import type { ResultMessage, WampMessage } from '../messages.js';
import type { Call } from './call.js';
import type { CallOptions, CallResult, CancelMode } from './types.js';

/** The outgoing calls waiting for their RESULT: routes results, errors and cancels to each `Call`. */
export class CallTable {
  readonly #calls = new Map<number, Call>();
  readonly #send: (message: WampMessage) => void;

  /** `send` writes a message if the session is open (a no-op otherwise). */
  constructor(send: (message: WampMessage) => void) {
    this.#send = send;
  }

  /** Shared by every `Call` as its cancel hook (one function, not one closure per call): sends CANCEL. */
  readonly cancel = (call: Call, mode: CancelMode): void => {
    if (!this.#calls.has(call.requestId)) return;
    this.#send({ type: MessageType.CANCEL, requestId: call.requestId, options: { mode } });
  };

  /** Track `call` (its CALL was sent); aborting `options.signal` cancels it with `options.cancelMode`. */
  track(call: Call, options: CallOptions): void {
    this.#calls.set(call.requestId, call);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => call.cancel(options.cancelMode ?? 'killnowait');
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        void call.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
      }
    }
  }

  /** Deliver a RESULT: a progressive one to the call's iterator, the final one settles the call. */
  result(message: ResultMessage): void {
    const call = this.#calls.get(message.requestId);
    if (call === undefined) return;
    const result: CallResult = { args: message.args ?? [], kwargs: message.kwargs ?? {}, details: message.details };
    if (message.payload !== undefined) result.details = { ...message.details, payload: message.payload };
    if (message.details['progress'] === true) call.progress(result);
    else {
      this.#calls.delete(message.requestId);
      call.resolve(result);
    }
  }

  /** Reject call `requestId` (an ERROR answered it). */
  fail(requestId: number, error: Error): void {
    const call = this.#calls.get(requestId);
    this.#calls.delete(requestId);
    call?.reject(error);
  }

  /** Reject every pending call (the session ended). */
  rejectAll(error: Error): void {
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
  }
}
