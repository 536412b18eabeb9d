import { AsyncQueue } from '@rt/transport';
import type { InvocationMessage } from '../messages.js';
import type { InvocationChunk } from './types.js';

/**
 * The further chunks of one progressive call invocation, as the handler reads them
 * (`invocation.inputs`). Unbounded: WAMP has no flow control towards the callee.
 */
export class InvocationInputs implements AsyncIterable<InvocationChunk> {
  readonly #queue = new AsyncQueue<InvocationChunk>({ highWaterMark: Number.MAX_SAFE_INTEGER });
  #final = false;

  /** True once the caller's final chunk arrived. */
  get final(): boolean {
    return this.#final;
  }

  /** Deliver one continuation INVOCATION; the final one (no `progress`) ends the inputs. */
  push(message: InvocationMessage): void {
    if (this.#final) return;
    const final = message.details['progress'] !== true;
    this.#final = final;
    if (this.#queue.ended) return;
    const details = message.payload === undefined ? message.details : { ...message.details, payload: message.payload };
    this.#queue.push({ args: message.args ?? [], kwargs: message.kwargs ?? {}, details, final });
    if (final) this.#queue.end();
  }

  /** End the inputs with `error` (interrupt, timeout, lost connection); buffered chunks are still read first. */
  fail(error: unknown): void {
    this.#queue.end(error);
  }

  /** The handler answered: drop what it did not read and end. */
  close(): void {
    this.#queue.clear();
    this.#queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<InvocationChunk> {
    return this.#queue[Symbol.asyncIterator]();
  }
}

/** The `inputs` of a plain (not progressive) invocation: ends at once. */
export const NO_INPUTS: AsyncIterable<InvocationChunk> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};
