/** Options for `Heartbeat`. */
export interface HeartbeatOptions {
  /** Send a ping after this much silence, in milliseconds. */
  intervalMs: number;
  /** Declare the peer dead when nothing arrives this long after a ping. */
  timeoutMs: number;
  /** Send one ping. */
  sendPing: () => void;
  /** The peer stayed silent: close or reconnect. */
  onTimeout: () => void;
}

/**
 * Pings a peer when the connection is idle and reports a peer that stays silent. Call
 * `alive()` on every incoming message; any traffic counts as a pong.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #awaitingPong = false;
  #running = false;

  constructor(options: HeartbeatOptions) {
    if (options.intervalMs <= 0 || options.timeoutMs <= 0) throw new RangeError('heartbeat times must be positive');
    this.#options = options;
  }

  /** Whether the heartbeat is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Start watching. */
  start(): void {
    this.#running = true;
    this.#arm(this.#options.intervalMs);
  }

  /** Record traffic from the peer: resets the idle timer. */
  alive(): void {
    if (!this.#running) return;
    this.#awaitingPong = false;
    this.#arm(this.#options.intervalMs);
  }

  /** Stop watching. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
    // A heartbeat alone must not keep a Node process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #tick(): void {
    if (!this.#running) return;
    if (this.#awaitingPong) {
      this.stop();
      this.#options.onTimeout();
      return;
    }
    this.#awaitingPong = true;
    this.#options.sendPing();
    this.#arm(this.#options.timeoutMs);
  }
}
