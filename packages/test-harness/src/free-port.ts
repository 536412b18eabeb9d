import * as net from 'node:net';

/**
 * Ask the system for a TCP port that is free right now on `host`, for servers that cannot
 * listen on port 0 themselves (redis-server, PostgreSQL). Another process could take it
 * before it is used, so launchers retry with a new port when the start fails.
 *
 * @param host - the interface to probe (default `127.0.0.1`)
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close((error?: Error) => (error ? reject(error) : resolve(port)));
    });
  });
}
