import { MessageType } from '../message-types.js';
import type { CallMessage, Dict, ResultMessage, WampMessage } from '../messages.js';
import type { Call } from './call.js';
import { setPayload } from './options.js';
import { Result, type CallOptions, type CallResult, type CancelMode } from './types.js';

/** The Options of a progressive call's further chunks (all other options were frozen by its first CALL). */
const MORE: Dict = Object.freeze({ progress: true });
const LAST: Dict = Object.freeze({});

/** An input item as a chunk's args and kwargs: a `Result` as it is, any other value as `args: [value]`. */
function chunkOf(item: unknown): [unknown[] | undefined, Dict | undefined] {
  if (item instanceof Result) return [item.args, item.kwargs];
  return item === undefined ? [undefined, undefined] : [[item], undefined];
}

/** The outgoing calls waiting for their RESULT: routes results, errors and cancels to each `Call`. */
export class CallTable {
  readonly #calls = new Map<number, Call>();
  readonly #send: (message: WampMessage) => boolean;
  readonly #drained: () => Promise<void>;

  /**
   * `send` writes a message if the session is open (a no-op otherwise) and returns false when the
   * write buffer is above its high water mark; `drained` resolves once it is below again (or closed).
   */
  constructor(send: (message: WampMessage) => boolean, drained: () => Promise<void>) {
    this.#send = send;
    this.#drained = drained;
  }

  /** Shared by every progressive `Call` as its input hook: sends one further CALL chunk. */
  readonly input = (call: Call, args: unknown[] | undefined, kwargs: Dict | undefined, final: boolean): boolean => {
    if (!this.#calls.has(call.requestId)) return true;
    const message: CallMessage = { type: MessageType.CALL, requestId: call.requestId, options: final ? LAST : MORE, procedure: call.procedure };
    setPayload(message, args, kwargs);
    return this.#send(message);
  };

  /**
   * Send `inputs` as the further chunks of progressive `call`, then an empty final chunk. Waits
   * while the write buffer is full; stops when the call settles or its input ends otherwise. An
   * iterable that throws cancels the call (`killnowait`) and rejects it with that error.
   */
  async stream(call: Call, inputs: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    try {
      for await (const item of inputs) {
        if (!call.inputOpen) return;
        const [args, kwargs] = chunkOf(item);
        if (!this.input(call, args, kwargs, false)) await this.#drained();
      }
      if (call.inputOpen) call.end();
    } catch (error) {
      if (call.settled) return;
      call.cancel('killnowait');
      this.fail(call.requestId, error instanceof Error ? error : new Error(String(error)));
    }
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
