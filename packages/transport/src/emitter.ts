/** An event map: event name to the listener's argument list. */
export type EventMap = Record<string, unknown[]>;

/** A listener for one event of an `EventMap`. */
export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A small typed event emitter that works in browsers and Node. A listener that throws
 * does not stop the others; the error is reported asynchronously.
 */
export class Emitter<Events extends EventMap> {
  // Listeners are stored untyped; `on` and `emit` keep the per-event types.
  #listeners = new Map<keyof Events, Set<Function>>();

  /** Add a listener; returns a function that removes it. */
  on<Name extends keyof Events>(event: Name, listener: Listener<Events[Name]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Add a listener that runs at most once. */
  once<Name extends keyof Events>(event: Name, listener: Listener<Events[Name]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Remove a listener. */
  off<Name extends keyof Events>(event: Name, listener: Listener<Events[Name]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Call every listener of `event` with `args`. */
  emit<Name extends keyof Events>(event: Name, ...args: Events[Name]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[Name]>)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
