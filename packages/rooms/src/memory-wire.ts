import {
  CLOSE_GOING_AWAY,
  ConnectionError,
  createMemoryPair,
  throwIfAborted,
  type BaseTransportOptions,
  type Transport,
} from '@rt/transport';
import type { IncomingChannel, Wire, WireListener, WireOpenOptions } from './wire.js';

/** Options for `memory()`. */
export interface MemoryWireOptions extends BaseTransportOptions {
  /** A name for messages. Default `memory`. */
  name?: string;
}

/**
 * An in-process wire: `bind` and `connect` given the same wire object talk through
 * in-memory transport pairs. For tests, demos and same-process collaboration.
 */
export class MemoryWire implements Wire {
  readonly name: string;
  readonly #transportOptions: BaseTransportOptions;
  #accept: ((incoming: IncomingChannel) => void) | undefined;
  readonly #accepted = new Set<Transport>();

  constructor(options: MemoryWireOptions = {}) {
    this.name = options.name ?? 'memory';
    const { name: _name, ...transportOptions } = options;
    this.#transportOptions = transportOptions;
  }

  async open(roomId: string, options: WireOpenOptions = {}): Promise<Transport> {
    throwIfAborted(options.signal);
    const accept = this.#accept;
    if (!accept) throw new ConnectionError(`nothing is bound to the ${this.name} wire`);
    const [client, server] = createMemoryPair(this.#transportOptions);
    this.#accepted.add(server);
    void server.closed.then(() => this.#accepted.delete(server));
    accept({ channel: server, roomId, token: options.token });
    return client;
  }

  async listen(onChannel: (incoming: IncomingChannel) => void): Promise<WireListener> {
    if (this.#accept) throw new Error(`the ${this.name} wire is already bound`);
    this.#accept = onChannel;
    const close = async (): Promise<void> => {
      if (this.#accept === onChannel) this.#accept = undefined;
      await Promise.all([...this.#accepted].map((channel) => channel.close(CLOSE_GOING_AWAY, 'server shutting down')));
    };
    return { port: undefined, url: undefined, close, [Symbol.asyncDispose]: close };
  }
}

/** Create an in-process wire (see `MemoryWire`). */
export function memory(options: MemoryWireOptions = {}): MemoryWire {
  return new MemoryWire(options);
}
