import { describe, expect, it } from 'vitest';
import { join, rawSession, startRouter } from './helpers.js';

describe('dealer details', () => {
  it('degrades CANCEL to skip for a callee without call_canceling', async () => {
    const { url } = await startRouter();
    const callee = await rawSession(url, { callee: {} });
    callee.send([64, 1, {}, 'com.raw.slow']);
    expect((await callee.next())[0]).toBe(65);
    const caller = await rawSession(url, { caller: { features: { call_canceling: true } } });
    caller.send([48, 7, {}, 'com.raw.slow', [1]]);
    const invocation = await callee.next();
    expect(invocation[0]).toBe(68);
    caller.send([49, 7, { mode: 'kill' }]);
    expect(await caller.next()).toEqual([8, 48, 7, {}, 'wamp.error.canceled', ['the call was canceled']]);
    // A late YIELD is dropped; the callee saw no INTERRUPT (its next message is the answer to a new REGISTER).
    callee.send([70, invocation[1], {}, ['late']]);
    callee.send([64, 2, {}, 'com.raw.other']);
    expect((await callee.next())[0]).toBe(65);
  });

  it('sends INTERRUPT with the mode to a callee that can cancel, and forwards its ERROR for kill', async () => {
    const { url } = await startRouter();
    const callee = await rawSession(url, { callee: { features: { call_canceling: true } } });
    callee.send([64, 1, {}, 'com.raw.slow']);
    await callee.next();
    const caller = await rawSession(url, { caller: {} });
    caller.send([48, 9, {}, 'com.raw.slow']);
    const invocation = await callee.next();
    caller.send([49, 9, { mode: 'kill' }]);
    expect(await callee.next()).toEqual([69, invocation[1], { mode: 'kill', reason: 'wamp.error.canceled' }]);
    callee.send([8, 68, invocation[1], {}, 'wamp.error.canceled', ['stopped']]);
    expect(await caller.next()).toEqual([8, 48, 9, {}, 'wamp.error.canceled', ['stopped']]);
  });

  it('fills INVOCATION details: procedure for patterns, progress, disclosure', async () => {
    const { url } = await startRouter();
    const callee = await rawSession(url, { callee: {} });
    callee.send([64, 1, { match: 'prefix', disclose_caller: true }, 'com.raw.']);
    const registered = await callee.next();
    const caller = await join(url, { authid: 'erin' });
    const call = caller.call('com.raw.thing', ['a'], { kwargs: { b: 1 }, receiveProgress: true });
    const invocation = await callee.next();
    expect(invocation).toEqual([68, expect.any(Number), registered[2], {
      procedure: 'com.raw.thing', receive_progress: true, caller: caller.session?.id, caller_authid: 'erin', caller_authrole: 'anonymous',
    }, ['a'], { b: 1 }]);
    callee.send([70, invocation[1], { progress: true }, ['p1']]);
    callee.send([70, invocation[1], {}, ['done']]);
    const progress: unknown[] = [];
    for await (const p of call) progress.push(p.args[0]);
    expect(progress).toEqual(['p1']);
    expect((await call).args).toEqual(['done']);
  });

  it('replaces a single registration with force_reregister and revokes the old one', async () => {
    const { url } = await startRouter();
    const first = await rawSession(url, { callee: {} });
    first.send([64, 1, {}, 'com.raw.p']);
    const registered = await first.next();
    const second = await rawSession(url, { callee: {} });
    second.send([64, 1, { force_reregister: true }, 'com.raw.p']);
    expect(await first.next()).toEqual([67, 0, { registration: registered[2], reason: 'wamp.error.unregistered' }]);
    expect(await second.next()).toEqual([65, 1, registered[2]]);
  });
});
