import { ConnectionError, ProtocolError, TimeoutError, type Transport } from '@rt/transport';
import { ChangeStreamError } from './errors.js';
import { decodeReply, encodeRequest, type OkReply, type Request } from './protocol.js';

type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

interface PendingRequest {
  resolve(reply: OkReply): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * One client connection: numbers requests, matches replies by id, and fails every pending
 * request with a `ConnectionError` when the transport closes.
 */
export class ClientConnection {
  readonly transport: Transport;
  readonly #pending = new Map<number, PendingRequest>();
  #nextId = 1;
  #failure: Error | undefined;

  constructor(transport: Transport) {
    this.transport = transport;
    void this.#read();
  }

  /** True while requests can be sent. */
  get usable(): boolean {
    return this.#failure === undefined && this.transport.state === 'open';
  }

  /**
   * Send a request and wait for its reply. Error documents reject with `ChangeStreamError`; a
   * lost connection or a reply later than `timeoutMs` rejects with a network error (and, for
   * the timeout, drops the connection, whose state is then unknown).
   */
  request(body: RequestBody, timeoutMs: number): Promise<OkReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<OkReply>((resolve, reject) => {
      const pending: PendingRequest = { resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        pending.timer = setTimeout(() => {
          this.#fail(new TimeoutError(`no reply to ${body.op} within ${timeoutMs} ms`, timeoutMs));
          this.transport.abort();
        }, timeoutMs);
      }
      this.#pending.set(id, pending);
      try {
        this.transport.write(encodeRequest({ ...body, id } as Request));
      } catch (error) {
        this.#settle(id);
        reject(error instanceof ConnectionError ? error : new ConnectionError('cannot send: the connection is closed', { cause: error }));
      }
    });
  }

  /** Close the connection. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  async #read(): Promise<void> {
    try {
      for await (const message of this.transport) {
        const reply = decodeReply(message);
        if (reply.id === null) {
          // The server could not read one of our requests at all: nothing can be matched.
          throw new ProtocolError(`the server could not read a request: ${reply.ok === 0 ? reply.errmsg : ''}`);
        }
        const pending = this.#settle(reply.id);
        if (!pending) continue;
        if (reply.ok === 0) pending.reject(ChangeStreamError.fromDocument(reply));
        else pending.resolve(reply);
      }
      const info = await this.transport.closed;
      this.#fail(new ConnectionError(`connection closed (${info.code}${info.reason ? ' ' + info.reason : ''})`, { closeCode: info.code, closeReason: info.reason }));
    } catch (error) {
      this.#fail(new ConnectionError('connection failed: ' + (error instanceof Error ? error.message : String(error)), { cause: error }));
      this.transport.abort();
    }
  }

  #settle(id: number): PendingRequest | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    return pending;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const [id, pending] of [...this.#pending]) {
      this.#settle(id);
      pending.reject(error);
    }
  }
}
