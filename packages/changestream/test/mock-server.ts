import { createMemoryPair, type Transport } from '@rt/transport';
import { decodeRequest, encodeReply, type Connector, type Reply, type Request } from '../src/index.js';

type ReplyBody = Omit<Reply, 'id' | 'op'> & { id?: number | null };

/** Decides the answer to one request; `undefined` leaves it unanswered. */
export type MockHandler = (request: Request, connection: number) => ReplyBody | undefined | Promise<ReplyBody | undefined>;

/** A scripted in-memory server: records every request, answers through `handler`. */
export function mockServer(handler: MockHandler): { connect: Connector; requests: Request[]; transports: Transport[] } {
  const requests: Request[] = [];
  const transports: Transport[] = [];
  const connect: Connector = async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const index = transports.length;
    transports.push(serverEnd);
    void (async () => {
      for await (const message of serverEnd) {
        const request = decodeRequest(message);
        requests.push(request);
        const body = await handler(request, index);
        if (body && serverEnd.state === 'open') serverEnd.write(encodeReply({ op: 'reply', ...body, id: body.id === undefined ? request.id : body.id } as Reply));
      }
    })();
    return clientEnd;
  };
  return { connect, requests, transports };
}

/** Token data for sequence number `n`. */
export function token(n: number): { _data: string } {
  return { _data: n.toString(16).padStart(16, '0') + '00000000' + '00' };
}

/** A cursor reply. */
export function cursorReply(id: number, batch: unknown[], postBatch: { _data: string }, first = false): ReplyBody {
  return {
    ok: 1,
    cursor: { id, ns: 'app.items', [first ? 'firstBatch' : 'nextBatch']: batch, postBatchResumeToken: postBatch },
    operationTime: { t: 100, i: 1 },
  } as ReplyBody;
}

/** An error reply. */
export function errorBody(code: number, errorLabels: string[] = []): ReplyBody {
  return { ok: 0, code, codeName: 'X', errmsg: `error ${code}`, errorLabels } as ReplyBody;
}

/** A minimal insert event with token `n`. */
export function event(n: number): Record<string, unknown> {
  return { _id: token(n), operationType: 'insert', documentKey: { _id: n }, fullDocument: { _id: n } };
}
