import { describe, expect, it } from 'vitest';
import { ChangeStreamClient, ChangeStreamError, ErrorCode, RESUMABLE_LABEL, type GetMoreRequest, type WatchRequest } from '../src/index.js';
import { cursorReply, errorBody, event, mockServer, token } from './mock-server.js';

function watches(requests: { op: string }[]): WatchRequest[] {
  return requests.filter((request): request is WatchRequest => request.op === 'watch');
}

function newClient(connect: ReturnType<typeof mockServer>['connect']): ChangeStreamClient {
  return new ChangeStreamClient('mock://server', { connect, pipelining: false, serverSelectionTimeoutMS: 2000 });
}

describe('ChangeStream resume rules (scripted server)', () => {
  it.each([
    ['CursorNotFound', errorBody(ErrorCode.CursorNotFound)],
    ['a ResumableChangeStreamError label', errorBody(ErrorCode.ShutdownInProgress, [RESUMABLE_LABEL])],
  ])('resumes once after %s with resumeAfter the cached token', async (_name, failure) => {
    let getMores = 0;
    const server = mockServer((request) => {
      if (request.op === 'watch') return cursorReply(watches(server.requests).length, [], token(watches(server.requests).length === 1 ? 1 : 5), true);
      if (request.op !== 'getMore') return { ok: 1 };
      getMores += 1;
      if (getMores === 1) return cursorReply(request.cursorId, [event(2), event(3)], token(4));
      if (getMores === 2) return failure;
      return cursorReply(request.cursorId, [event(6)], token(6));
    });
    const stream = newClient(server.connect).db('app').collection('items').watch();
    const resumed: Error[] = [];
    stream.on('resumed', (error) => resumed.push(error));
    expect(((await stream.next()) as { _id: unknown })._id).toEqual(token(2));
    expect(stream.resumeToken).toEqual(token(2));
    await stream.next();
    // The last event of a batch caches the batch's postBatchResumeToken.
    expect(stream.resumeToken).toEqual(token(4));
    expect(((await stream.next()) as { _id: unknown })._id).toEqual(token(6));
    const [, second] = watches(server.requests);
    expect(second?.options).toEqual({ resumeAfter: token(4) });
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toBeInstanceOf(ChangeStreamError);
    await stream.close();
  });

  it.each([
    ['ChangeStreamHistoryLost', errorBody(ErrorCode.ChangeStreamHistoryLost, [RESUMABLE_LABEL])],
    ['an unlabelled error', errorBody(ErrorCode.BadValue)],
    ['ChangeStreamFatalError', errorBody(ErrorCode.ChangeStreamFatalError)],
  ])('never resumes after %s', async (_name, failure) => {
    const server = mockServer((request) => (request.op === 'watch' ? cursorReply(1, [], token(1), true) : request.op === 'getMore' ? failure : { ok: 1 }));
    const stream = newClient(server.connect).watch();
    const error = await stream.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChangeStreamError);
    expect((error as ChangeStreamError).code).toBe((failure as unknown as { code: number }).code);
    expect(watches(server.requests)).toHaveLength(1);
    expect(stream.alive).toBe(false);
    await expect(stream.next()).rejects.toBe(error);
  });

  it('resumes with startAfter until a change has been returned, then resumeAfter', async () => {
    let getMores = 0;
    const server = mockServer((request) => {
      if (request.op === 'watch') return cursorReply(watches(server.requests).length, [], watches(server.requests).length === 1 ? token(1) : token(3), true);
      if (request.op !== 'getMore') return { ok: 1 };
      getMores += 1;
      if (getMores === 1 || getMores === 3) return errorBody(ErrorCode.CursorNotFound);
      return cursorReply(request.cursorId, [event(4)], token(4));
    });
    const stream = newClient(server.connect).watch([], { startAfter: token(1) });
    expect(stream.resumeToken).toEqual(token(1));
    await stream.next();
    await stream.next();
    const [, second, third] = watches(server.requests);
    expect(second?.options).toEqual({ startAfter: token(1) });
    expect(third?.options).toEqual({ resumeAfter: token(4) });
    await stream.close();
  });

  it('resumes with startAtOperationTime when no token was ever cached', async () => {
    const server = mockServer((request) => {
      if (request.op === 'watch') {
        const count = watches(server.requests).length;
        return count === 1 ? { ok: 1, cursor: { id: 1, ns: 'app.items', firstBatch: [], postBatchResumeToken: token(1) }, operationTime: { t: 100, i: 1 } } : errorBody(ErrorCode.BadValue);
      }
      return request.op === 'getMore' ? errorBody(ErrorCode.CursorNotFound) : { ok: 1 };
    });
    const stream = newClient(server.connect).watch([], { startAtOperationTime: { t: 50, i: 0 } });
    await stream.ready();
    // The empty first batch cached its postBatchResumeToken, so the resume uses it.
    await expect(stream.next()).rejects.toMatchObject({ code: ErrorCode.BadValue });
    expect(watches(server.requests)[1]?.options).toEqual({ resumeAfter: token(1) });
  });

  it('fails with ChangeStreamFatalError when a change has no _id', async () => {
    const server = mockServer((request) =>
      request.op === 'watch' ? cursorReply(1, [{ operationType: 'insert' }], token(1), true) : { ok: 1 },
    );
    const stream = newClient(server.connect).watch();
    await expect(stream.next()).rejects.toMatchObject({ code: ErrorCode.ChangeStreamFatalError });
    expect(stream.alive).toBe(false);
  });

  it('tryNext returns null on an empty batch but caches its postBatchResumeToken', async () => {
    const server = mockServer((request) =>
      request.op === 'watch' ? cursorReply(1, [], token(1), true) : request.op === 'getMore' ? cursorReply(1, [], token(9)) : { ok: 1 },
    );
    const stream = newClient(server.connect).watch();
    const seen: unknown[] = [];
    stream.on('resumeTokenChanged', (changed) => seen.push(changed));
    expect(await stream.tryNext()).toBeNull();
    expect(stream.resumeToken).toEqual(token(9));
    expect(seen).toEqual([token(1), token(9)]);
    const getMore = server.requests.find((request): request is GetMoreRequest => request.op === 'getMore');
    expect(getMore).toMatchObject({ cursorId: 1, maxAwaitTimeMS: 1000 });
    await stream.close();
    expect(server.requests.at(-1)).toMatchObject({ op: 'killCursors', cursorIds: [1] });
  });

  it('pipelines the next getMore while a batch is consumed', async () => {
    const server = mockServer((request) => {
      if (request.op === 'watch') return cursorReply(1, [], token(1), true);
      if (request.op === 'getMore') {
        const count = server.requests.filter((sent) => sent.op === 'getMore').length;
        return count === 1 ? cursorReply(1, [event(2), event(3)], token(3)) : undefined;
      }
      return { ok: 1 };
    });
    const stream = new ChangeStreamClient('mock://server', { connect: server.connect }).watch();
    await stream.next();
    expect(server.requests.filter((request) => request.op === 'getMore')).toHaveLength(2);
    await stream.close();
  });

  it('resumes after the connection is lost, on a new connection', async () => {
    const server = mockServer((request, connection) => {
      if (request.op === 'watch') return cursorReply(1, connection === 0 ? [event(1)] : [event(2)], connection === 0 ? token(1) : token(2), true);
      if (request.op === 'getMore') {
        if (connection === 0) void server.transports[0]?.close(1001);
        return undefined;
      }
      return { ok: 1 };
    });
    const stream = newClient(server.connect).watch();
    expect(((await stream.next()) as { _id: unknown })._id).toEqual(token(1));
    expect(((await stream.next()) as { _id: unknown })._id).toEqual(token(2));
    expect(watches(server.requests)[1]?.options).toEqual({ resumeAfter: token(1) });
    await stream.close();
  });
});

describe('ChangeStream options (scripted server)', () => {
  it('sends batchSize and maxAwaitTimeMS, tolerates unknown operation types, closes on abort', async () => {
    let getMoreArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (getMoreArrived = resolve));
    const server = mockServer((request) => {
      if (request.op === 'watch') return cursorReply(1, [{ _id: token(1), operationType: 'reshardCollection' }], token(1), true);
      if (request.op === 'getMore') getMoreArrived();
      return request.op === 'getMore' ? undefined : { ok: 1 };
    });
    const controller = new AbortController();
    const stream = newClient(server.connect).db('app').watch([], { batchSize: 3, maxAwaitTimeMS: 250, signal: controller.signal, showExpandedEvents: true });
    expect(await stream.next()).toMatchObject({ operationType: 'reshardCollection' });
    expect(watches(server.requests)[0]).toMatchObject({ ns: { db: 'app' }, options: { batchSize: 3, showExpandedEvents: true } });
    const pending = stream.next();
    await arrived;
    controller.abort();
    await expect(pending).rejects.toThrow(/closed/);
    expect(stream.alive).toBe(false);
    expect(server.requests.find((request) => request.op === 'getMore')).toMatchObject({ batchSize: 3, maxAwaitTimeMS: 250 });
  });

  it('never opens a stream whose signal is already aborted', async () => {
    const server = mockServer((request) => (request.op === 'watch' ? cursorReply(1, [event(1)], token(1), true) : { ok: 1 }));
    const stream = newClient(server.connect).watch([], { signal: AbortSignal.abort() });
    const seen: unknown[] = [];
    for await (const change of stream) seen.push(change);
    expect(seen).toEqual([]);
    expect(stream.alive).toBe(false);
    expect(watches(server.requests)).toHaveLength(0);
  });

  it('fails ChangeStreamClient.connect when no server answers within serverSelectionTimeoutMS', async () => {
    const refused = ChangeStreamClient.connect('mock://nowhere', {
      connect: () => Promise.reject(new Error('refused')),
      serverSelectionTimeoutMS: 100,
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    await expect(refused).rejects.toThrow(/no server reachable/);
  });

  it('retries opening a cursor on network errors until a server answers', async () => {
    let attempts = 0;
    const server = mockServer((request) => (request.op === 'watch' ? cursorReply(1, [event(1)], token(1), true) : undefined));
    const flaky = new ChangeStreamClient('mock://flaky', {
      connect: async (url, options) => {
        attempts += 1;
        if (attempts < 3) throw new Error('not yet');
        return server.connect(url, options);
      },
      reconnect: { initialDelayMs: 5, maxDelayMs: 10 },
    });
    const stream = flaky.watch();
    expect(await stream.next()).toMatchObject({ documentKey: { _id: 1 } });
    expect(attempts).toBe(3);
    await flaky.close();
  });
});
