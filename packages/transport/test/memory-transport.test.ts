import { describe, expect, it } from 'vitest';
import { ConnectionError, createMemoryPair } from '../src/index.js';

describe('createMemoryPair', () => {
  it('carries messages both ways without sharing buffers', async () => {
    const [a, b] = createMemoryPair();
    const bytes = new Uint8Array([1, 2, 3]);
    a.write(bytes);
    b.write('pong');
    bytes[0] = 99;
    expect(Array.from((await b.receive()) as Uint8Array)).toEqual([1, 2, 3]);
    expect(await a.receive()).toBe('pong');
  });

  it('closes both ends cleanly with the same code and reason', async () => {
    const [a, b] = createMemoryPair();
    const info = await a.close(4000, 'done');
    expect(info).toMatchObject({ code: 4000, reason: 'done', wasClean: true });
    expect(await b.closed).toMatchObject({ code: 4000, reason: 'done', wasClean: true });
    expect(() => b.write('x')).toThrow(ConnectionError);
  });

  it('reports an abort as an abnormal close on the other end', async () => {
    const [a, b] = createMemoryPair();
    a.abort(new Error('cut'));
    expect(await b.closed).toMatchObject({ code: 1006, wasClean: false });
    expect(await a.closed).toMatchObject({ code: 1006, wasClean: false });
  });

  it('keeps order under read backpressure', async () => {
    const [a, b] = createMemoryPair({ readHighWaterMark: 2 });
    for (let i = 0; i < 50; i++) a.write(String(i));
    const received: string[] = [];
    for (let i = 0; i < 50; i++) received.push((await b.receive()) as string);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });
});

describe('tryReceive', () => {
  it('drains buffered messages synchronously, then reports none', async () => {
    const [a, b] = createMemoryPair();
    a.write('one');
    a.write('two');
    expect(b.tryReceive()).toBeUndefined();
    expect(await b.receive()).toBe('one');
    expect(b.tryReceive()).toBe('two');
    expect(b.tryReceive()).toBeUndefined();
  });
});

describe('onMessage (push mode)', () => {
  it('delivers queued messages first, then each new one synchronously, until switched off', async () => {
    const [a, b] = createMemoryPair();
    a.write('queued');
    expect(await b.receive()).toBe('queued');
    a.write('early');
    await Promise.resolve();
    const seen: string[] = [];
    let arrived!: () => void;
    const third = new Promise<void>((resolve) => (arrived = resolve));
    b.onMessage((message) => {
      seen.push(message as string);
      if (seen.length === 3) arrived();
    });
    a.write('two');
    a.write('three');
    await third;
    expect(seen).toEqual(['early', 'two', 'three']);
    b.onMessage(undefined);
    a.write('pulled');
    expect(await b.receive()).toBe('pulled');
    expect(seen).toHaveLength(3);
  });

  it('aborts the transport when the handler throws', async () => {
    const [a, b] = createMemoryPair();
    b.onMessage(() => {
      throw new Error('handler bug');
    });
    a.write('boom');
    const info = await b.closed;
    expect(info.wasClean).toBe(false);
    expect(info.error?.message).toBe('handler bug');
    expect((await a.closed).code).toBe(1006);
  });
});
