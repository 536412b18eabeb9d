import { Heartbeat, type HeartbeatOptions } from '@rt/transport';

/**
 * A `Heartbeat` fed by incoming traffic. Any message proves the peer alive, but re-arming
 * the timer for each message of a burst is wasted work, so `traffic()` reaches the
 * heartbeat at most once per half interval (capped at a second): always well before a ping
 * is due, and the first message after a ping always gets through.
 */
export class HeartbeatPulse {
  readonly #heartbeat: Heartbeat;
  readonly #everyMs: number;
  #last = 0;

  constructor(options: HeartbeatOptions) {
    this.#heartbeat = new Heartbeat(options);
    this.#everyMs = Math.min(1000, options.intervalMs / 2);
  }

  /** Start watching. */
  start(): void {
    this.#last = Date.now();
    this.#heartbeat.start();
  }

  /** Record incoming traffic. */
  traffic(): void {
    const now = Date.now();
    if (now - this.#last < this.#everyMs) return;
    this.#last = now;
    this.#heartbeat.alive();
  }

  /** Stop watching. */
  stop(): void {
    this.#heartbeat.stop();
  }
}
