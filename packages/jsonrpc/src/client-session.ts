import { dial } from '#dial';
import { ConnectionError, ContentLengthFramer } from '@rt/transport';
import type { DialOptions, DialTarget } from './dial.js';
import type { MethodMap, UntypedMethods } from './method-map.js';
import { RPCSession } from './session.js';
import type { SessionOptions } from './session-options.js';

/** Options of a `ClientSession`: session options plus how to connect. */
export interface ClientSessionOptions<Local extends MethodMap<Local> = UntypedMethods> extends SessionOptions<Local>, DialOptions {}

/**
 * The client side of a JSON-RPC connection:
 * `const session = new ClientSession('127.0.0.1', 8000); await session.createConnection();`
 * or `new ClientSession('ws://host:port/path')`. The server may send requests back;
 * answer them with `{ handlers }` or by overriding `handleRequest`.
 */
export class ClientSession<
  Remote extends MethodMap<Remote> = UntypedMethods,
  Local extends MethodMap<Local> = UntypedMethods,
> extends RPCSession<Remote, Local> {
  readonly #target: DialTarget;
  readonly #dialOptions: ClientSessionOptions<Local>;

  /** Connect by URL (`tcp://`, `tls://`, `ws://`, `wss://`). */
  constructor(url: string, options?: ClientSessionOptions<Local>);
  /** Connect over TCP (newline framing unless `framer` says otherwise). */
  constructor(host: string, port: number, options?: ClientSessionOptions<Local>);
  constructor(
    hostOrUrl: string,
    portOrOptions?: number | ClientSessionOptions<Local>,
    maybeOptions?: ClientSessionOptions<Local>,
  ) {
    const options = (typeof portOrOptions === 'number' ? maybeOptions : portOrOptions) ?? {};
    super(options);
    this.#dialOptions = options;
    this.#target = typeof portOrOptions === 'number' ? { host: hostOrUrl, port: portOrOptions } : { url: hostOrUrl };
  }

  protected get isServer(): boolean {
    return false;
  }

  /** Open the connection; resolves once connected (rejects with `ConnectionError` or `TimeoutError`). */
  async createConnection(): Promise<this> {
    if (this.state !== 'idle') throw new Error(`cannot connect a session that is ${this.state}`);
    const transport = await dial(this.#target, this.#dialOptions);
    if (this.state !== 'idle') {
      // Closed (or connected some other way) while dialling.
      transport.abort();
      throw new ConnectionError(`the session was ${this.state} while connecting`);
    }
    const contentLength = this.#dialOptions.framer instanceof ContentLengthFramer;
    this.attach(transport, contentLength ? { cancelMethod: '$/cancelRequest' } : {});
    return this;
  }
}

/**
 * Connect to a JSON-RPC server by URL (`tcp://`, `tls://`, `ws://`, `wss://`) and resolve
 * the connected `ClientSession`.
 */
export async function connect<
  Remote extends MethodMap<Remote> = UntypedMethods,
  Local extends MethodMap<Local> = UntypedMethods,
>(
  url: string,
  options: ClientSessionOptions<Local> = {},
): Promise<ClientSession<Remote, Local>> {
  return new ClientSession<Remote, Local>(url, options).createConnection();
}
