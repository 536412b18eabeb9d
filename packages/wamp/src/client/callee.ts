import { ErrorUri } from '../error-uris.js';
import { ApplicationError } from '../errors.js';
import { MessageType } from '../message-types.js';
import type { Dict, ErrorMessage, InvocationMessage, Payload, WampMessage, YieldMessage } from '../messages.js';
import { Result, type Invocation, type ProcedureHandler } from './types.js';

/**
 * The abort state of one invocation. The `AbortSignal` is made only when a handler reads it:
 * most invocations finish without anyone looking.
 */
export class InvocationAbort {
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
  }
}

/** Turn a handler's return value into YIELD payload and options. */
function resultPayload(value: unknown, progress: boolean): Payload & { options: Dict } {
  const options: Dict = progress ? { progress: true } : {};
  if (value instanceof Result) {
    const out: Payload & { options: Dict } = { options: { ...value.options, ...options } };
    if (Object.keys(value.kwargs).length > 0) {
      out.args = value.args;
      out.kwargs = value.kwargs;
    } else if (value.args.length > 0) out.args = value.args;
    return out;
  }
  return value === undefined ? { options } : { options, args: [value] };
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

/**
 * Run one invocation: call the handler, send progressive YIELDs for async iterables or
 * `progress()`, then the final YIELD or an ERROR. `send` returns false once the session is gone.
 */
export async function runInvocation(
  message: InvocationMessage,
  procedure: string,
  handler: ProcedureHandler,
  controller: InvocationAbort,
  send: (message: WampMessage) => void,
): Promise<void> {
  const requestId = message.requestId;
  const receiveProgress = message.details['receive_progress'] === true;
  const yieldMessage = (value: unknown, progress: boolean): YieldMessage => ({
    type: MessageType.YIELD, requestId, ...resultPayload(value, progress),
  });
  const invocation: Invocation = {
    args: message.args ?? [],
    kwargs: message.kwargs ?? {},
    details: message.details,
    procedure,
    get signal() {
      return controller.signal;
    },
    receiveProgress,
    progress(args = [], kwargs = {}) {
      if (receiveProgress && !controller.aborted) send(yieldMessage(new Result(args, kwargs), true));
    },
  };
  try {
    let value = await handler(invocation);
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
        if (receiveProgress) send(yieldMessage(step.value, true));
      }
    }
    if (controller.aborted) throw controller.reason;
    send(yieldMessage(value, false));
  } catch (error) {
    send(invocationError(requestId, error, controller));
  }
}
