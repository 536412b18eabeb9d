import { describe, expect, it } from 'vitest';
import { DEBIAN_PYTHON, hasCommand, peerAvailable, startPythonPeer, withTeardown } from '../src/index.js';
import { connectRaw } from './support/raw-socket.js';

const available = await peerAvailable('Debian python3', hasCommand(DEBIAN_PYTHON));

const ECHO_SERVER = `
import asyncio, sys

async def handle(reader, writer):
    data = await reader.readline()
    writer.write(b"py:" + data)
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("READY", server.sockets[0].getsockname()[1], sys.executable)
    print("args", *sys.argv[1:])
    async with server:
        await server.serve_forever()

asyncio.run(main())
`;

describe.skipIf(!available)('startPythonPeer', () => {
  it('starts an asyncio server with /usr/bin/python3 and learns its port from the ready line', async () => {
    const peer = await withTeardown(startPythonPeer({ code: ECHO_SERVER, args: ['a', 'b'], readyPattern: /READY (\d+) (\S+)/ }), (p) =>
      p.stop(),
    );
    expect(peer.port).toBeGreaterThan(0);
    expect(peer.ready?.[2]).toBe(DEBIAN_PYTHON);
    expect(await peer.waitForLine(/^args (.*)$/)).toContain('a b');
    expect(peer.lines[0]).toMatch(/^READY \d+/);

    const client = await connectRaw(peer.port as number);
    client.socket.write('hello\n');
    await client.ended;
    expect(client.received().toString()).toBe('py:hello\n');

    const exit = await peer.stop();
    expect(exit.signal).toBe('SIGTERM');
  });

  it('fails with the stderr when the peer dies before it is ready', async () => {
    await expect(
      startPythonPeer({ code: 'import sys\nprint("boom on stderr", file=sys.stderr)\nsys.exit(3)', readyPattern: /READY/ }),
    ).rejects.toThrow(/exited \(code 3\)[\s\S]*boom on stderr/);
  });

  it('fails with a timeout that names the pattern and includes the stderr', async () => {
    await expect(
      startPythonPeer({
        code: 'import sys, time\nprint("still warming up", file=sys.stderr, flush=True)\ntime.sleep(30)',
        readyPattern: /NEVER/,
        timeoutMs: 300,
      }),
    ).rejects.toThrow(/no line matching \/NEVER\/ within 300 ms[\s\S]*still warming up/);
  });

  it('stop escalates to SIGKILL when the peer ignores SIGTERM', async () => {
    const peer = await withTeardown(
      startPythonPeer({
        code: 'import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint("READY", flush=True)\ntime.sleep(30)',
        readyPattern: /READY/,
      }),
      (p) => p.stop(),
    );
    const exit = await peer.stop(200);
    expect(exit.signal).toBe('SIGKILL');
  });

  it('runs a script file with arguments and environment', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'rt-py-'));
    try {
      const script = join(dir, 'peer.py');
      writeFileSync(script, 'import os, sys\nprint("GOT", sys.argv[1], os.environ["RT_VALUE"])\n');
      const peer = await startPythonPeer({ script, args: ['first'], env: { RT_VALUE: 'from-env' }, readyPattern: /^GOT (\S+) (\S+)$/ });
      expect(peer.ready?.slice(1)).toEqual(['first', 'from-env']);
      expect((await peer.exited).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects when neither or both of code and script are given', async () => {
    await expect(startPythonPeer({})).rejects.toThrow(/exactly one of `code` and `script`/);
    await expect(startPythonPeer({ code: 'pass', script: 'x.py' })).rejects.toThrow(TypeError);
  });
});
