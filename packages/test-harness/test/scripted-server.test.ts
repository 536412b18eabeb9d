import * as net from 'node:net';
import { CLOSE_ABNORMAL, connectTcp, connectWebSocket, jsonCodec, LengthPrefixFramer, ProtocolError } from '@rt/transport';
import { describe, expect, it } from 'vitest';
import { startScriptedServer, withTeardown, type ScriptedServerOptions } from '../src/index.js';

const startServer = (options: ScriptedServerOptions) => withTeardown(startScriptedServer(options), (s) => s.close());

describe('startScriptedServer over WebSocket', () => {
  it('runs expect/send steps, answers from the received message, and records the transcript', async () => {
    const server = await startServer({
      codec: jsonCodec,
      script: [
        { expect: { method: 'hello' } },
        { send: ({ last }) => ({ id: (last as { id: number }).id, result: 'welcome' }) },
        { expect: (message: unknown) => (message as { method?: string }).method === 'bye' },
        { close: 4000, reason: 'script over' },
      ],
    });
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await client.send(JSON.stringify({ id: 7, method: 'hello', params: [] }));
    expect(JSON.parse((await client.receive({ timeoutMs: 5000 })) as string)).toEqual({ id: 7, result: 'welcome' });
    await client.send(JSON.stringify({ method: 'bye' }));
    const info = await client.closed;
    expect(info).toMatchObject({ code: 4000, reason: 'script over' });
    await server.done;

    const [connection] = server.connections;
    expect(connection?.received).toEqual([{ id: 7, method: 'hello', params: [] }, { method: 'bye' }]);
    expect(connection?.transcript.map((entry) => entry.kind)).toEqual(['received', 'sent', 'received', 'server-closed', 'closed']);
  });

  it('rejects done with a diff and the transcript when a message does not match', async () => {
    const server = await startServer({ codec: jsonCodec, script: [{ expect: { method: 'ping', params: [1] } }, { send: 'never' }] });
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await client.send(JSON.stringify({ method: 'ping', params: [2] }));
    const error = await server.done.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('connection #0, step 1 of 2');
    expect(error?.message).toContain('first difference: $.params[0]: expected 1, received 2');
    expect(error?.message).toMatch(/transcript:\n.*← \{"method":"ping","params":\[2\]\}/);
    // the failed script closes the connection so the client never hangs
    expect((await client.closed).code).toBe(1011);
  });

  it('rejects done when nothing arrives in time', async () => {
    const server = await startServer({ script: [{ expect: 'anything', timeoutMs: 50 }] });
    await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await expect(server.done).rejects.toThrow(/expected "anything" but nothing arrived within 50 ms/);
  });

  it('rejects done when the client closes while a message is expected', async () => {
    const server = await startServer({ script: [{ expect: 'x' }] });
    const client = await connectWebSocket(server.url);
    await client.close(1000, 'leaving');
    await expect(server.done).rejects.toThrow(/but the connection closed \(1000 leaving\)/);
  });

  it('cut drops the connection: the client sees 1006 at once', async () => {
    const server = await startServer({ script: [{ expect: 'go' }, { cut: true }] });
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await client.send('go');
    const info = await client.closed;
    expect(info.code).toBe(CLOSE_ABNORMAL);
    expect(info.wasClean).toBe(false);
    await server.done;
  });

  it('sendRaw writes bytes on the wire unframed: a hand-made frame arrives, a broken one makes the client close with 1002', async () => {
    const textFrame = Uint8Array.of(0x81, 0x02, 0x68, 0x69); // FIN + text, unmasked, "hi"
    const reservedOpcode = Uint8Array.of(0x83, 0x00); // opcode 3 is reserved
    const server = await startServer({
      script: [{ sendRaw: textFrame }, { expect: 'got it' }, { sendRaw: reservedOpcode }, { expectClose: 1002 }],
    });
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    expect(await client.receive({ timeoutMs: 5000 })).toBe('hi');
    await client.send('got it');
    expect((await client.closed).wasClean).toBe(false);
    // the server saw the client's close frame with 1002 (protocol error)
    await server.done;
  });

  it('silent records what arrives and never answers', async () => {
    const server = await startServer({ script: [{ silent: true }] });
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await client.send('anyone there?');
    await expect(client.receive({ timeoutMs: 100 })).rejects.toThrow(/timed out/);
    expect(server.connections[0]?.received).toEqual(['anyone there?']);
  });

  it('wait delays the answer', async () => {
    const server = await startServer({ script: [{ expect: 'q' }, { wait: 100 }, { send: 'slow answer' }] });
    const client = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    const start = performance.now();
    await client.send('q');
    expect(await client.receive({ timeoutMs: 5000 })).toBe('slow answer');
    expect(performance.now() - start).toBeGreaterThanOrEqual(90);
  });

  it('expectClose passes when the client closes with the expected code, recording messages before it', async () => {
    const server = await startServer({ script: [{ send: 'please leave' }, { expectClose: 1000 }] });
    const client = await connectWebSocket(server.url);
    expect(await client.receive({ timeoutMs: 5000 })).toBe('please leave');
    await client.send('ok, leaving');
    await client.close(1000);
    await server.done;
    expect(server.connections[0]?.received).toEqual(['ok, leaving']);
  });

  it('expectClose fails on another code', async () => {
    const server = await startServer({ script: [{ expectClose: 1000 }] });
    const client = await connectWebSocket(server.url);
    await client.close(4001, 'other');
    await expect(server.done).rejects.toThrow(/expected a close with code 1000, the connection closed with 4001/);
  });

  it('chooses a script per connection: the first is cut, the second answers', async () => {
    const server = await startServer({
      connections: 2,
      script: (index) => (index === 0 ? [{ cut: true }] : [{ expect: 'again' }, { send: 'welcome back' }]),
    });
    const first = await connectWebSocket(server.url);
    expect((await first.closed).code).toBe(CLOSE_ABNORMAL);
    const second = await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await second.send('again');
    expect(await second.receive({ timeoutMs: 5000 })).toBe('welcome back');
    await server.waitForConnections(2);
    await server.done;
  });

  it('fails a send without a codec that is neither a string nor bytes', async () => {
    const server = await startServer({ script: [{ send: { not: 'encodable' } }] });
    await withTeardown(connectWebSocket(server.url), (t) => t.abort());
    await expect(server.done).rejects.toThrow(/cannot send \{"not":"encodable"\} without a codec/);
  });
});

describe('startScriptedServer over TCP', () => {
  it('uses newline framing by default, and sendRaw can split a frame across writes', async () => {
    const server = await startServer({
      transport: 'tcp',
      script: [{ expect: /^hello/ }, { sendRaw: 'first\nsec' }, { wait: 20 }, { sendRaw: 'ond\n' }, { expect: 'done' }],
    });
    expect(server.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const client = await withTeardown(connectTcp(server.address), (t) => t.abort());
    await client.send('hello there');
    expect(await client.receive({ timeoutMs: 5000 })).toBe('first');
    expect(await client.receive({ timeoutMs: 5000 })).toBe('second');
    await client.send('done');
    await server.done;
  });

  it('uses the given framer and codec', async () => {
    const server = await startServer({
      transport: 'tcp',
      framer: () => new LengthPrefixFramer(),
      text: false,
      codec: jsonCodec,
      script: [{ expect: { n: 1 } }, { send: { n: 2 } }],
    });
    const client = await withTeardown(connectTcp({ ...server.address, framer: new LengthPrefixFramer(), text: false }), (t) => t.abort());
    await client.send(new TextEncoder().encode('{"n":1}'));
    const answer = (await client.receive({ timeoutMs: 5000 })) as Uint8Array;
    expect(new TextDecoder().decode(answer)).toBe('{"n":2}');
    await server.done;
  });

  it('reports a message the codec cannot decode', async () => {
    const server = await startServer({ transport: 'tcp', codec: jsonCodec, script: [{ expect: {} }] });
    const client = await withTeardown(connectTcp(server.address), (t) => t.abort());
    await client.send('not json');
    await expect(server.done).rejects.toThrow(/could not decode "not json" with codec json/);
  });

  it('cut resets the TCP connection', async () => {
    const server = await startServer({ transport: 'tcp', script: [{ cut: true }] });
    const socket = net.connect(server.address.port, '127.0.0.1');
    const error = await new Promise<Error | undefined>((resolve) => {
      let seen: Error | undefined;
      socket.on('error', (e) => {
        seen = e;
      });
      socket.on('close', () => resolve(seen));
    });
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    await server.done;
  });

  it('a broken frame from sendRaw makes the client fail with a protocol error', async () => {
    const server = await startServer({
      transport: 'tcp',
      framer: () => new LengthPrefixFramer({ maxSize: 16 }),
      script: [{ sendRaw: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3) }, { expectClose: true }],
    });
    const client = await withTeardown(
      connectTcp({ ...server.address, framer: new LengthPrefixFramer({ maxSize: 16 }), text: false }),
      (t) => t.abort(),
    );
    const info = await client.closed;
    expect(info.code).not.toBe(1000);
    expect(info.error === undefined || info.error instanceof ProtocolError).toBe(true);
    await server.done;
  });
});
