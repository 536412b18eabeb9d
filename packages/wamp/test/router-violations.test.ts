import fc from 'fast-check';
import { connectWebSocket, type Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { join, startRouter } from './helpers.js';

const HELLO = JSON.stringify([1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]);

async function raw(url: string, protocol = 'wamp.2.json'): Promise<Transport> {
  const transport = await connectWebSocket(url, { protocols: [protocol] });
  useTeardown(() => transport.close());
  return transport;
}

async function next(transport: Transport): Promise<unknown> {
  const data = await transport.receive({ timeoutMs: 5000 });
  return data === undefined ? undefined : JSON.parse(data as string);
}

async function joined(url: string): Promise<Transport> {
  const transport = await raw(url);
  transport.write(HELLO);
  expect(await next(transport)).toMatchObject([2, expect.any(Number), expect.any(Object)]);
  return transport;
}

async function expectAbort(transport: Transport, contains: string): Promise<void> {
  const reply = (await next(transport)) as unknown[];
  expect(reply[0]).toBe(3);
  expect(reply[2]).toBe('wamp.error.protocol_violation');
  expect(JSON.stringify(reply[1])).toContain(contains);
  const closed = await transport.closed;
  expect(closed.code).toBeGreaterThanOrEqual(1000);
}

describe('router strictness', () => {
  it.each([
    ['malformed JSON', '[1, "realm1", {', 'JSON'],
    ['a first message other than HELLO', JSON.stringify([48, 1, {}, 'com.x']), 'expected HELLO'],
    ['HELLO without roles', JSON.stringify([1, 'realm1', {}]), 'roles'],
    ['HELLO with a non-string realm', JSON.stringify([1, 5, { roles: {} }]), 'Realm'],
    ['a message that is not a list', JSON.stringify({ type: 1 }), 'list'],
  ])('aborts a session for %s', async (_name, frame, contains) => {
    const { url } = await startRouter();
    const transport = await raw(url);
    transport.write(frame);
    await expectAbort(transport, contains);
  });

  it.each([
    ['an unknown message type', [999, 1], 'unknown'],
    ['a string request id', [48, 'one', {}, 'com.x'], 'Request'],
    ['a badly typed option', [16, 1, { acknowledge: 'yes' }, 'com.x'], 'acknowledge'],
    ['a WELCOME from the client', [2, 1, { roles: {} }], 'may not send'],
    ['an ERROR for a CALL from the client', [8, 48, 1, {}, 'com.err'], 'INVOCATION'],
    ['a second HELLO', [1, 'realm1', { roles: {} }], 'may not send'],
    ['args that are not a list', [48, 1, {}, 'com.x', 'oops'], 'Arguments'],
  ])('aborts an established session for %s', async (_name, message, contains) => {
    const { url } = await startRouter();
    const transport = await joined(url);
    transport.write(JSON.stringify(message));
    await expectAbort(transport, contains);
  });

  it('rejects a binary frame on a JSON session', async () => {
    const { url } = await startRouter();
    const transport = await joined(url);
    transport.write(new Uint8Array([0xff, 0x00, 0x13]));
    await expectAbort(transport, 'UTF-8');
  });

  it('answers invalid URIs with ERROR wamp.error.invalid_uri and keeps the session', async () => {
    const { url } = await startRouter();
    const transport = await joined(url);
    transport.write(JSON.stringify([48, 1, {}, 'com..bad']));
    expect(await next(transport)).toEqual([8, 48, 1, {}, 'wamp.error.invalid_uri']);
    transport.write(JSON.stringify([64, 2, {}, 'com.bad uri']));
    expect(await next(transport)).toEqual([8, 64, 2, {}, 'wamp.error.invalid_uri']);
    transport.write(JSON.stringify([32, 3, { match: 'prefix' }, 'com.ok.']));
    expect(await next(transport)).toMatchObject([33, 3, expect.any(Number)]);
  });

  it('refuses WebSocket clients without a WAMP subprotocol', async () => {
    const { url } = await startRouter();
    await expect(connectWebSocket(url, { protocols: ['chat'] })).rejects.toThrow();
  });

  it('keeps serving other sessions while fuzzed with random messages', async () => {
    const { url } = await startRouter();
    const callee = await join(url);
    const caller = await join(url);
    await callee.register('com.example.alive', () => 'yes');
    const message = fc.oneof(
      fc.json(),
      fc.tuple(fc.constantFrom(1, 2, 3, 5, 6, 8, 16, 32, 34, 48, 49, 64, 66, 68, 69, 70, 999), fc.jsonValue(), fc.jsonValue(), fc.jsonValue()).map((t) => JSON.stringify(t)),
    );
    await fc.assert(fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 4 }), async (frames) => {
      const transport = await connectWebSocket(url, { protocols: ['wamp.2.json'] });
      transport.write(HELLO);
      await transport.receive({ timeoutMs: 5000 });
      for (const frame of frames) if (transport.state === 'open') transport.write(frame);
      if (transport.state === 'open') transport.write(JSON.stringify([6, {}, 'wamp.close.normal']));
      // The router answers each session with GOODBYE, ABORT or an ERROR, then closes it.
      for (;;) {
        const data = await transport.receive({ timeoutMs: 5000 });
        if (data === undefined) break;
        const reply = JSON.parse(data as string) as unknown[];
        expect([2, 3, 6, 8, 17, 33, 35, 36, 50, 65, 67, 68]).toContain(reply[0]);
      }
      expect((await caller.call('com.example.alive')).args).toEqual(['yes']);
    }), { numRuns: 40 });
  });
});
