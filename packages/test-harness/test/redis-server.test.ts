import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { allOf, hasCommand, peerAvailable, pingRedis, startRedis, withTeardown } from '../src/index.js';

const run = promisify(execFile);
const available = await peerAvailable('redis-server (Debian redis-server)', allOf(hasCommand('redis-server'), hasCommand('redis-cli')));

describe.skipIf(!available)('startRedis', () => {
  it('starts on a free loopback port, answers redis-cli, and stops cleanly', async () => {
    const redis = await withTeardown(startRedis(), (r) => r.stop());
    expect(redis.host).toBe('127.0.0.1');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);

    const ping = await run('redis-cli', ['-h', redis.host, '-p', String(redis.port), 'PING']);
    expect(ping.stdout.trim()).toBe('PONG');
    await run('redis-cli', ['-p', String(redis.port), 'SET', 'rt:key', 'value']);
    const value = await run('redis-cli', ['-p', String(redis.port), 'GET', 'rt:key']);
    expect(value.stdout.trim()).toBe('value');
    const persistence = await run('redis-cli', ['-p', String(redis.port), 'CONFIG', 'GET', 'appendonly']);
    expect(persistence.stdout.split('\n')[1]).toBe('no');

    const dir = (await run('redis-cli', ['-p', String(redis.port), 'CONFIG', 'GET', 'dir'])).stdout.split('\n')[1] as string;
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(existsSync(dir)).toBe(false);
    expect((await redis.process.exited).code).toBe(0);
    await expect(pingRedis(redis.host, redis.port)).rejects.toThrow(/ECONNREFUSED/);
    await redis.stop();
  });

  it('runs two servers side by side', async () => {
    const [a, b] = await Promise.all([withTeardown(startRedis(), (r) => r.stop()), withTeardown(startRedis(), (r) => r.stop())]);
    expect(a.port).not.toBe(b.port);
    await Promise.all([pingRedis(a.host, a.port), pingRedis(b.host, b.port)]);
  });
});
