import { ErrorUri } from '../error-uris.js';
import { ApplicationError } from '../errors.js';
import { MessageType } from '../message-types.js';
import type { Dict, ErrorMessage, InvocationMessage, WampMessage, YieldMessage } from '../messages.js';
import { NO_INPUTS, type InvocationInputs } from './invocation-inputs.js';
import { Result, type Invocation, type InvocationChunk, type ProcedureHandler } from './types.js';

/**
 * The abort state of one invocation. The `AbortSignal` is made only when a handler reads it:
 * most invocations finish without anyone looking.
 */
export class InvocationAbort {
  /** The client-side timeout timer (details.timeout), cleared when the invocation ends. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The further chunks of a progressive call invocation; they fail when the invocation is aborted. */
  inputs: InvocationInputs | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.inputs?.fail(reason);
  }
}

/** The YIELD answering with a handler's return value (a plain value or a `Result`). */
function yieldMessage(requestId: number, value: unknown, progress: boolean): YieldMessage {
  const options: Dict = progress ? { progress: true } : {};
  if (value instanceof Result) {
    const message: YieldMessage = { type: MessageType.YIELD, requestId, options: { ...value.options, ...options } };
    if (Object.keys(value.kwargs).length > 0) {
      message.args = value.args;
      message.kwargs = value.kwargs;
    } else if (value.args.length > 0) message.args = value.args;
    return message;
  }
  return value === undefined ? { type: MessageType.YIELD, requestId, options } : { type: MessageType.YIELD, requestId, options, args: [value] };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The ERROR message answering a failed invocation. */
export function invocationError(requestId: number, error: unknown, state: { aborted: boolean }): ErrorMessage {
  const base = { type: MessageType.ERROR, requestType: MessageType.INVOCATION, requestId, details: {} } as const;
  if (error instanceof ApplicationError) {
    const message: ErrorMessage = { ...base, error: error.uri };
    if (Object.keys(error.kwargs).length > 0) {
      message.args = error.args;
      message.kwargs = error.kwargs;
    } else if (error.args.length > 0) message.args = error.args;
    return message;
  }
  if (state.aborted) return { ...base, error: ErrorUri.CANCELED, args: ['the invocation was interrupted'] };
  return { ...base, error: ErrorUri.RUNTIME_ERROR, args: [error instanceof Error ? error.message : String(error)] };
}

/** Where an invocation's YIELDs and ERROR go, and what happens when it is over. */
export interface InvocationSink {
  /** Send one message (a no-op once the session is gone). */
  send(message: WampMessage): void;
  /** The invocation is over (final YIELD or ERROR sent). */
  done(requestId: number, controller: InvocationAbort): void;
}

/** What a handler gets: one object per invocation, its methods on the prototype (no closures). */
class InvocationContext implements Invocation {
  readonly args: unknown[];
  readonly kwargs: Dict;
  readonly details: Dict;
  readonly procedure: string;
  readonly receiveProgress: boolean;
  readonly progressive: boolean;
  readonly inputs: AsyncIterable<InvocationChunk>;
  readonly #controller: InvocationAbort;
  readonly #sink: InvocationSink;
  readonly #requestId: number;

  constructor(message: InvocationMessage, procedure: string, controller: InvocationAbort, sink: InvocationSink) {
    this.args = message.args ?? [];
    this.kwargs = message.kwargs ?? {};
    this.details = message.details;
    this.procedure = procedure;
    this.receiveProgress = message.details['receive_progress'] === true;
    this.progressive = controller.inputs !== undefined;
    this.inputs = controller.inputs ?? NO_INPUTS;
    this.#controller = controller;
    this.#sink = sink;
    this.#requestId = message.requestId;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  progress(args: unknown[] = [], kwargs: Dict = {}): void {
    if (this.receiveProgress && !this.#controller.aborted) this.#sink.send(yieldMessage(this.#requestId, new Result(args, kwargs), true));
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

/**
 * Run one invocation: call the handler, send progressive YIELDs for async iterables or
 * `progress()`, then the final YIELD or an ERROR, then tell `sink.done`. A handler that answers
 * synchronously with a plain value or `Result` is answered at once, without promises. Returns
 * true while the invocation is still running (its handler is asynchronous).
 */
export function runInvocation(
  message: InvocationMessage,
  procedure: string,
  handler: ProcedureHandler,
  controller: InvocationAbort,
  sink: InvocationSink,
): boolean {
  const requestId = message.requestId;
  const invocation = new InvocationContext(message, procedure, controller, sink);
  let value: unknown;
  try {
    value = handler(invocation);
  } catch (error) {
    sink.send(invocationError(requestId, error, controller));
    sink.done(requestId, controller);
    return false;
  }
  if (isThenable(value) || (isAsyncIterable(value) && !(value instanceof Result))) {
    void finishAsync(value, invocation, controller, sink, requestId);
    return true;
  }
  sink.send(controller.aborted ? invocationError(requestId, controller.reason, controller) : yieldMessage(requestId, value, false));
  sink.done(requestId, controller);
  return false;
}

async function finishAsync(
  pending: unknown,
  invocation: InvocationContext,
  controller: InvocationAbort,
  sink: InvocationSink,
  requestId: number,
): Promise<void> {
  try {
    let value = await pending;
    if (isAsyncIterable(value) && !(value instanceof Result)) {
      const iterator = value[Symbol.asyncIterator]();
      for (;;) {
        const step = await iterator.next();
        if (step.done === true) {
          value = step.value;
          break;
        }
        if (controller.aborted) {
          await iterator.return?.();
          throw controller.reason;
        }
        if (invocation.receiveProgress) sink.send(yieldMessage(requestId, step.value, true));
      }
    }
    if (controller.aborted) throw controller.reason;
    sink.send(yieldMessage(requestId, value, false));
  } catch (error) {
    sink.send(invocationError(requestId, error, controller));
  }
  sink.done(requestId, controller);
}
