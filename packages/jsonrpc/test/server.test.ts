import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectNet } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError, ContentLengthFramer, LengthPrefixFramer } from '@rt/transport';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientSession, connect } from '../src/client-session.js';
import { ServerSession } from '../src/server-session.js';
import { startServer, testHandlers, track } from './helpers.js';

const echoSession = () => new ServerSession({ handlers: testHandlers });

/** A throwaway self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI. */
function selfSignedCert(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'rt-jsonrpc-tls-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

describe('Server', () => {
  it('serves newline-framed TCP on port 0 to ClientSession(host, port)', async () => {
    const { address } = await startServer(echoSession, { port: 0 });
    expect(address.port).toBeGreaterThan(0);
    const client = track(new ClientSession(address.host, address.port));
    await client.createConnection();
    expect(await client.sendRequest('add', [40, 2])).toBe(42);
    expect(client.remoteAddress).toBe('127.0.0.1');
  });

  it('frames one message per line on the wire', async () => {
    const { address } = await startServer(echoSession);
    const socket = connectNet(address.port, address.host);
    onTestFinished(() => {
      socket.destroy();
    });
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.write('{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}\n{"jsonrpc":"2.0","method":"echo","params":["x"],"id":2}\n');
    await expect.poll(() => received.split('\n').length).toBe(3);
    expect(received.split('\n').slice(0, 2).map((line) => JSON.parse(line) as unknown)).toEqual([
      { jsonrpc: '2.0', id: 1, result: 3 },
      { jsonrpc: '2.0', id: 2, result: 'x' },
    ]);
  });

  it('answers invalid UTF-8 with -32700 and keeps the connection', async () => {
    const { address } = await startServer(echoSession);
    const socket = connectNet(address.port, address.host);
    onTestFinished(() => {
      socket.destroy();
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.write(Buffer.from([0xff, 0xfe, 0x7b, 0x0a]));
    socket.write('{"jsonrpc":"2.0","method":"echo","params":[5],"id":1}\n');
    await expect.poll(() => received.split('\n').length).toBe(3);
    const [first, second] = received.split('\n').map((line) => (line ? (JSON.parse(line) as unknown) : line));
    expect(first).toMatchObject({ error: { code: -32700 }, id: null });
    expect(second).toMatchObject({ result: 5, id: 1 });
  });

  it('serves WebSocket and connects by ws:// URL', async () => {
    const { address } = await startServer(echoSession, { websocket: { path: '/rpc' } });
    expect(address.url).toMatch(/^ws:\/\//);
    const client = track(await connect(`ws://${address.host}:${address.port}/rpc`));
    expect(await client.sendRequest('greet', { name: 'ws' })).toBe('hello ws');
    expect(await client.sendBatch((batch) => batch.addRequest('add', [1, 1]).addRequest('add', [2, 2]))).toEqual([2, 4]);
  });

  it('serves TCP and WebSocket from one server', async () => {
    const { server, address } = await startServer(echoSession);
    const ws = await server.listenWs();
    const tcpClient = track(await connect(address.url));
    const wsClient = track(await connect(ws.url));
    expect(await tcpClient.sendRequest('echo', ['tcp'])).toBe('tcp');
    expect(await wsClient.sendRequest('echo', ['ws'])).toBe('ws');
    expect(server.sessions.size).toBe(2);
  });

  it('serves TLS and connects by tls:// URL', async () => {
    const { cert, key } = selfSignedCert();
    const { address } = await startServer(echoSession, { tls: { cert, key } });
    expect(address.url).toMatch(/^tls:\/\//);
    const client = track(await connect(address.url, { tls: { ca: cert } }));
    expect(await client.sendRequest('add', [3, 4])).toBe(7);
  });

  it('serves wss:// and connects to it, trusting the certificate given in tls', async () => {
    const { cert, key } = selfSignedCert();
    const { address } = await startServer(echoSession, { tls: { cert, key }, websocket: { path: '/rpc' } });
    expect(address.url).toBe(`wss://127.0.0.1:${address.port}/rpc`);
    const client = track(await connect(address.url, { tls: { ca: cert } }));
    expect(await client.sendRequest('greet', { name: 'wss' })).toBe('hello wss');
    expect(await client.sendBatch((batch) => batch.addRequest('add', [1, 2]).addRequest('echo', ['ü']))).toEqual([3, 'ü']);
    const byHostName = track(new ClientSession(`wss://localhost:${address.port}/rpc`, { tls: { ca: cert } }));
    await byHostName.createConnection();
    expect(await byHostName.sendRequest('echo', [[1, { x: null }]])).toEqual([1, { x: null }]);
    // Without trusting the self-signed certificate the handshake fails.
    await expect(connect(address.url)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('keeps the WebSocket message limit over wss://', async () => {
    const { cert, key } = selfSignedCert();
    const { address } = await startServer(echoSession, { tls: { cert, key }, websocket: true, maxMessageSize: 1000 });
    const client = track(await connect(address.url, { tls: { ca: cert }, maxMessageSize: 1000 }));
    await expect(client.sendRequest('echo', ['x'.repeat(5000)])).rejects.toBeInstanceOf(ConnectionError);
    expect((await client.closed).code).toBe(1009);
  });

  it('listenWs() inherits the server TLS options unless tls is false', async () => {
    const { cert, key } = selfSignedCert();
    const { server, address } = await startServer(echoSession, { tls: { cert, key } });
    expect(address.url).toMatch(/^tls:\/\//);
    const secure = await server.listenWs();
    const plain = await server.listenWs({ tls: false, path: '/plain' });
    expect(secure.url).toMatch(/^wss:\/\//);
    expect(plain.url).toMatch(/^ws:\/\/.*\/plain$/);
    const clients = [
      track(await connect(address.url, { tls: { ca: cert } })),
      track(await connect(secure.url, { tls: { ca: cert } })),
      track(await connect(plain.url)),
    ];
    expect(await Promise.all(clients.map((client, index) => client.sendRequest('add', [index, 10])))).toEqual([10, 11, 12]);
    expect(server.sessions.size).toBe(3);
  });

  it('uses the framer it is given (length prefix, Content-Length)', async () => {
    for (const makeFramer of [() => new LengthPrefixFramer(), () => new ContentLengthFramer()]) {
      const { address } = await startServer(echoSession, { framer: makeFramer });
      const client = track(new ClientSession(address.host, address.port, { framer: makeFramer() }));
      await client.createConnection();
      expect(await client.sendRequest('echo', [{ nested: 'ü' }])).toEqual({ nested: 'ü' });
    }
  });

  for (const websocket of [false, true]) {
    it(`closes a connection that sends an oversize message, and keeps serving others (${websocket ? 'WebSocket' : 'TCP'})`, async () => {
      const { server, address } = await startServer(echoSession, { maxMessageSize: 1000, websocket });
      const big = track(await connect(address.url));
      const other = track(await connect(address.url));
      const reply = big.sendRequest('echo', ['x'.repeat(5000)]);
      await expect(reply).rejects.toBeInstanceOf(ConnectionError);
      // WebSocket carries the reason; over TCP the client only sees the connection end.
      if (websocket) expect((await big.closed).code).toBe(1009);
      expect(await other.sendRequest('echo', ['still here'])).toBe('still here');
      await expect.poll(() => server.sessions.size).toBe(1);
    });
  }

  it('closes every session on close()', async () => {
    const hang = () => new ServerSession({ handlers: { hang: () => new Promise(() => undefined) } });
    const { server, address } = await startServer(hang);
    const client = track(await connect(address.url));
    const pending = client.sendRequest('hang').catch((error: unknown) => error);
    await expect.poll(() => server.sessions.size).toBe(1);
    await server.close();
    expect(await pending).toBeInstanceOf(ConnectionError);
    expect(server.sessions.size).toBe(0);
    await expect(connect(address.url)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('drops a peer that stops reading for longer than maxSendDelayMs', async () => {
    const sessions: ServerSession[] = [];
    const { address } = await startServer(
      () => {
        const session = new ServerSession({ handlers: { big: () => 'x'.repeat(4_000_000) } });
        sessions.push(session);
        return session;
      },
      { maxSendDelayMs: 200 },
    );
    const socket = connectNet(address.port, address.host);
    onTestFinished(() => {
      socket.destroy();
    });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    // 40 MB of replies: more than loopback's kernel buffers can hold.
    for (let id = 0; id < 10; id += 1) socket.write(`{"jsonrpc":"2.0","method":"big","id":${id}}\n`);
    await expect.poll(() => sessions.length).toBe(1);
    const info = await (sessions[0] as ServerSession).closed;
    expect(info.wasClean).toBe(false);
  });

  it('rejects unknown URL schemes', async () => {
    await expect(connect('http://127.0.0.1:1')).rejects.toBeInstanceOf(TypeError);
  });
});
