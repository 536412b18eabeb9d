import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, startProcessPeer, withTeardown, withTimeout } from '../src/index.js';

describe('startProcessPeer', () => {
  it('captures stdout and stderr lines and waits for later lines', async () => {
    const peer = await withTeardown(
      startProcessPeer({
        command: '/bin/sh',
        args: ['-c', 'echo "READY 4242"; echo "warming" >&2; read line; echo "after $line"; exec sleep 30'],
        readyPattern: /READY (\d+)/,
      }),
      (p) => p.stop(),
    );
    expect(peer.port).toBe(4242);
    expect(peer.pid).toBeGreaterThan(0);
    // stdin is closed, so `read` returns at once with an empty line
    expect((await peer.waitForLine(/^after/, { from: 1 })).input).toBe('after ');
    await expect(peer.waitForLine(/READY/, { from: 1, timeoutMs: 30 })).rejects.toThrow(/no line matching \/READY\/ within 30 ms/);
    expect(peer.lines).toEqual(['READY 4242', 'after ']);
    expect(peer.stderrLines).toContain('warming');
  });

  it('rejects a wait when the process exits without printing the line', async () => {
    const peer = await startProcessPeer({ command: '/bin/sh', args: ['-c', 'echo one; exit 2'] });
    await expect(peer.waitForLine(/two/)).rejects.toThrow(/exited \(code 2\)/);
    expect(await peer.exited).toEqual({ code: 2, signal: null });
    expect(await peer.stop()).toEqual({ code: 2, signal: null });
  });

  it('rejects with a clear error when the command does not exist', async () => {
    await expect(startProcessPeer({ command: '/nonexistent/rt-peer', readyPattern: /x/ })).rejects.toThrow(
      /cannot start \/nonexistent\/rt-peer: spawn \/nonexistent\/rt-peer ENOENT/,
    );
  });

  it('reports no port when the ready match has no numeric group', async () => {
    const peer = await withTeardown(startProcessPeer({ command: '/bin/sh', args: ['-c', 'echo up; exec sleep 30'], readyPattern: /up/ }), (p) =>
      p.stop(),
    );
    expect(peer.ready?.[0]).toBe('up');
    expect(peer.port).toBeUndefined();
  });
});

describe('freePort and withTimeout', () => {
  it('freePort returns a port that can be bound right away', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    expect((server.address() as net.AddressInfo).port).toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('withTimeout passes values and errors through and names what timed out', async () => {
    expect(await withTimeout(Promise.resolve(5), 1000, 'five')).toBe(5);
    await expect(withTimeout(Promise.reject(new Error('inner')), 1000, 'x')).rejects.toThrow('inner');
    await expect(withTimeout(new Promise(() => undefined), 20, 'the moon')).rejects.toThrow('timed out after 20 ms waiting for the moon');
  });
});
