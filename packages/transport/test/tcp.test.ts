import { describe, expect, it } from 'vitest';
import {
  CLOSE_MESSAGE_TOO_BIG,
  ConnectionError,
  connectTcp,
  ContentLengthFramer,
  LengthPrefixFramer,
  listenTcp,
  type Listener,
  type TcpListenOptions,
  type Transport,
} from '../src/node.js';
import { selfSignedCertificate } from './self-signed.js';
import { cleanups, echoOn, track } from './support.js';

async function echoServer(options: TcpListenOptions = {}): Promise<Listener> {
  return echoOn(await listenTcp(options));
}

describe('TCP transport', () => {
  it('echoes newline-framed messages, many per write', async () => {
    const server = await echoServer();
    const client = track(await connectTcp({ port: server.address.port }));
    const messages = Array.from({ length: 200 }, (_, index) => JSON.stringify({ index, text: 'é'.repeat(index % 7) }));
    for (const message of messages) client.write(message);
    const received: unknown[] = [];
    for (let i = 0; i < messages.length; i++) received.push(await client.receive());
    expect(received).toEqual(messages);
  });

  it.each([
    ['length-prefix', () => new LengthPrefixFramer()],
    ['Content-Length', () => new ContentLengthFramer()],
  ])('echoes binary messages with %s framing', async (_name, framer) => {
    const server = await echoServer({ framer, text: false });
    const client = track(await connectTcp({ port: server.address.port, framer: framer(), text: false }));
    const payload = new Uint8Array(100_000).map((_, index) => index % 251);
    await client.send(payload);
    await client.send(new Uint8Array(0));
    expect(Array.from((await client.receive()) as Uint8Array)).toEqual(Array.from(payload));
    expect(((await client.receive()) as Uint8Array).length).toBe(0);
  });

  it('closes with 1009 on an oversize message by default, and keeps serving others', async () => {
    const server = await echoServer({ framer: () => new LengthPrefixFramer({ maxSize: 100 }) });
    const framer = () => new LengthPrefixFramer();
    const offender = track(await connectTcp({ port: server.address.port, framer: framer() }));
    const other = track(await connectTcp({ port: server.address.port, framer: framer() }));
    offender.write('z'.repeat(1000));
    await offender.closed;
    await other.send('fine');
    expect(await other.receive()).toBe('fine');
  });

  it('can skip oversize messages and carry on', async () => {
    const listener = await listenTcp({ framer: () => new LengthPrefixFramer({ maxSize: 10 }), onOversize: 'skip' });
    cleanups.push(() => listener.close());
    const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve));
    const client = track(await connectTcp({ port: listener.address.port, framer: new LengthPrefixFramer() }));
    const server = await accepted;
    client.write('this one is far too long');
    client.write('ok');
    expect(await server.receive()).toBe('ok');
    expect(server.state).toBe('open');
  });

  it('reports the oversize close code to the server side', async () => {
    const listener = await listenTcp({ framer: () => new LengthPrefixFramer({ maxSize: 10 }) });
    cleanups.push(() => listener.close());
    const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve));
    const client = track(await connectTcp({ port: listener.address.port, framer: new LengthPrefixFramer() }));
    const server = await accepted;
    client.write('this one is far too long');
    const info = await server.closed;
    expect(info.code).toBe(CLOSE_MESSAGE_TOO_BIG);
    expect(info.error?.message).toMatch(/exceeds the limit of 10 bytes/);
  });

  it('rejects invalid UTF-8 in text mode as a protocol error', async () => {
    const listener = await listenTcp();
    cleanups.push(() => listener.close());
    const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve));
    const client = track(await connectTcp({ port: listener.address.port, text: false }));
    const server = await accepted;
    client.write(new Uint8Array([0xff, 0xfe, 0xfd]));
    const info = await server.closed;
    expect(info.error?.message).toMatch(/UTF-8/);
  });

  it('delivers a real U+FFFD character in valid UTF-8 untouched', async () => {
    const server = await echoServer();
    const client = track(await connectTcp({ port: server.address.port }));
    await client.send('replacement \uFFFD character');
    expect(await client.receive()).toBe('replacement \uFFFD character');
  });

  it('pushes messages to an onMessage handler as they arrive, in order', async () => {
    const listener = await listenTcp();
    cleanups.push(() => listener.close());
    listener.onConnection((transport) => transport.onMessage((message) => transport.write(`echo ${String(message)}`)));
    const client = track(await connectTcp({ port: listener.address.port }));
    for (let i = 0; i < 50; i++) client.write(String(i));
    const replies: unknown[] = [];
    for (let i = 0; i < 50; i++) replies.push(await client.receive());
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => `echo ${i}`));
  });

  it('reports a refused connection as ConnectionError', async () => {
    const listener = await listenTcp();
    const port = listener.address.port;
    await listener.close();
    await expect(connectTcp({ port })).rejects.toBeInstanceOf(ConnectionError);
  });

  it('ends the client when the server closes, and rejects later writes', async () => {
    const server = await echoServer();
    const client = track(await connectTcp({ port: server.address.port }));
    await server.close();
    await client.closed;
    expect(await client.receive()).toBeUndefined();
    expect(() => client.write('late')).toThrow(ConnectionError);
  });

  it('speaks TLS', async () => {
    const { cert, key } = selfSignedCertificate();
    const server = await echoServer({ tls: { cert, key } });
    expect(server.url).toMatch(/^tls:\/\//);
    const client = track(await connectTcp({ port: server.address.port, tls: { ca: cert } }));
    await client.send('secret');
    expect(await client.receive()).toBe('secret');
    await expect(connectTcp({ port: server.address.port, tls: true })).rejects.toBeInstanceOf(ConnectionError);
  });
});
