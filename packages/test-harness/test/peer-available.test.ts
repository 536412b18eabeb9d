import { afterEach, describe, expect, it, vi } from 'vitest';
import { allOf, hasCommand, hasPython3Module, isCI, peerAvailable } from '../src/index.js';

describe('peerAvailable', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('resolves true when the check passes, in CI or not', async () => {
    vi.stubEnv('CI', 'true');
    expect(await peerAvailable('always', () => true)).toBe(true);
    vi.stubEnv('CI', '');
    expect(await peerAvailable('always', async () => ({ available: true }))).toBe(true);
  });

  it('throws in CI when the peer is missing, naming the peer and the reason', async () => {
    vi.stubEnv('CI', 'true');
    await expect(peerAvailable('imaginary-peer', () => ({ available: false, reason: 'not installed' }))).rejects.toThrow(
      /interop peer "imaginary-peer" is missing in CI.*not installed/,
    );
    await expect(
      peerAvailable('throwing-peer', () => {
        throw new Error('check exploded');
      }),
    ).rejects.toThrow(/throwing-peer.*check exploded/);
  });

  it('outside CI prints [skip] with the reason to stderr and resolves false', async () => {
    vi.stubEnv('CI', '');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await peerAvailable('imaginary-peer', () => ({ available: false, reason: 'not installed' }))).toBe(false);
    expect(write).toHaveBeenCalledWith('[skip] imaginary-peer: not installed\n');
  });

  it('treats CI=false and CI=0 as not CI', () => {
    vi.stubEnv('CI', 'false');
    expect(isCI()).toBe(false);
    vi.stubEnv('CI', '0');
    expect(isCI()).toBe(false);
    vi.stubEnv('CI', '1');
    expect(isCI()).toBe(true);
  });

  it('hasCommand finds executables by path and on PATH, and explains a missing one', async () => {
    expect(await hasCommand('/bin/sh')()).toBe(true);
    expect(await hasCommand('sh')()).toBe(true);
    expect(await hasCommand('/nonexistent/rt-no-such-binary')()).toEqual({
      available: false,
      reason: '/nonexistent/rt-no-such-binary is not installed (no executable found)',
    });
  });

  it('hasPython3Module imports with Debian python and reports the import error', async () => {
    expect(await hasPython3Module('json')()).toBe(true);
    const missing = await hasPython3Module('rt_no_such_module_xyz')();
    expect(missing).toMatchObject({ available: false, reason: expect.stringMatching(/ModuleNotFoundError/) });
    expect(await hasPython3Module('os; import sys')()).toMatchObject({ available: false });
  });

  it('allOf reports the first failing check', async () => {
    const check = allOf(
      () => true,
      () => ({ available: false, reason: 'second fails' }),
      () => ({ available: false, reason: 'third fails' }),
    );
    expect(await check()).toEqual({ available: false, reason: 'second fails' });
  });
});
