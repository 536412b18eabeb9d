import { BaseTransport, type BaseTransportOptions } from './base-transport.js';
import { CLOSE_ABNORMAL, type Transport, type TransportMessage } from './transport.js';

/**
 * One end of an in-process transport pair. Messages are delivered on a microtask so
 * both ends behave asynchronously, as a socket would.
 */
export class MemoryTransport extends BaseTransport {
  #peer: MemoryTransport | undefined;
  #paused = false;
  #pending: TransportMessage[] = [];

  /** Link two ends; use `createMemoryPair()`. */
  static link(a: MemoryTransport, b: MemoryTransport): void {
    a.#peer = b;
    b.#peer = a;
  }

  get bufferedAmount(): number {
    return 0;
  }

  protected writeMessage(message: TransportMessage): void {
    const peer = this.#peer;
    // Copy binary payloads: a socket never shares memory between the two ends.
    const copy = typeof message === 'string' ? message : message.slice();
    if (peer) queueMicrotask(() => peer.#deliver(copy));
  }

  protected startClose(code: number, reason: string): void {
    const peer = this.#peer;
    queueMicrotask(() => {
      peer?.didClose({ code, reason, wasClean: true });
      this.didClose({ code, reason, wasClean: true });
    });
  }

  protected destroy(error: Error | undefined): void {
    const peer = this.#peer;
    queueMicrotask(() => {
      peer?.didClose({ code: CLOSE_ABNORMAL, reason: 'connection lost', wasClean: false });
      this.didClose({ code: CLOSE_ABNORMAL, reason: error?.message ?? 'aborted', wasClean: false, error });
    });
  }

  protected pauseReading(): void {
    this.#paused = true;
  }

  protected resumeReading(): void {
    this.#paused = false;
    while (!this.#paused && this.#pending.length > 0) this.didReceive(this.#pending.shift() as TransportMessage);
  }

  #deliver(message: TransportMessage): void {
    if (this.state === 'closed') return;
    if (this.#paused) this.#pending.push(message);
    else this.didReceive(message);
  }
}

/** Create two linked in-memory transports: what one writes, the other reads. */
export function createMemoryPair(options: BaseTransportOptions = {}): [Transport, Transport] {
  const a = new MemoryTransport(options);
  const b = new MemoryTransport(options);
  MemoryTransport.link(a, b);
  return [a, b];
}
