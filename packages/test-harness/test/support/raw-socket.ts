import * as net from 'node:net';

/** A raw TCP endpoint (client or accepted server socket) that records what it reads. */
export interface RawEnd {
  socket: net.Socket;
  /** Everything read so far. */
  received(): Buffer;
  /** Resolves once at least `n` bytes were read (rejects when the socket closes first). */
  waitForBytes(n: number): Promise<Buffer>;
  /** Resolves when the peer half-closed (FIN). */
  ended: Promise<void>;
  /** Resolves on close with the error that ended it, if any. */
  closed: Promise<Error | undefined>;
}

export function recordSocket(socket: net.Socket): RawEnd {
  const chunks: Buffer[] = [];
  let total = 0;
  let waiters: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  let lastError: Error | undefined;
  const received = (): Buffer => Buffer.concat(chunks);
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    total += chunk.length;
    waiters = waiters.filter((w) => {
      if (total < w.n) return true;
      w.resolve(received());
      return false;
    });
  });
  socket.on('error', (error) => {
    lastError = error;
  });
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  const closed = new Promise<Error | undefined>((resolve) =>
    socket.once('close', () => {
      for (const w of waiters) w.reject(new Error(`socket closed after ${total} of ${w.n} bytes`));
      waiters = [];
      resolve(lastError);
    }),
  );
  return {
    socket,
    received,
    ended,
    closed,
    waitForBytes(n) {
      if (total >= n) return Promise.resolve(received());
      if (socket.destroyed) return Promise.reject(new Error(`socket closed after ${total} of ${n} bytes`));
      return new Promise((resolve, reject) => waiters.push({ n, resolve, reject }));
    },
  };
}

/** Connect a raw recording client. */
export function connectRaw(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawEnd> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false });
    const end = recordSocket(socket);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(end);
    });
    socket.once('error', reject);
  });
}

/** A TCP server that records every accepted socket; `echo` makes it write back what it reads. */
export interface RawServer {
  port: number;
  connections: RawEnd[];
  nextConnection(): Promise<RawEnd>;
  close(): Promise<void>;
}

export async function startRawServer(options: { echo?: boolean; allowHalfOpen?: boolean } = {}): Promise<RawServer> {
  const connections: RawEnd[] = [];
  let pending: ((end: RawEnd) => void)[] = [];
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    const end = recordSocket(socket);
    if (options.echo) socket.on('data', (chunk: Buffer) => socket.write(chunk));
    connections.push(end);
    const waiting = pending;
    pending = [];
    for (const resolve of waiting) resolve(end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let seen = 0;
  return {
    port,
    connections,
    nextConnection() {
      const index = seen;
      seen += 1;
      const existing = connections[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => {
        const wait = (end: RawEnd): void => {
          const ready = connections[index];
          if (ready) resolve(ready);
          else pending.push(wait);
          void end;
        };
        pending.push(wait);
      });
    },
    close() {
      for (const c of connections) c.socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Connect and wait until the connection is gone, whether the reset came before or after the
 * client saw it established. Resolves with the error that ended it, if any.
 */
export function connectUntilClosed(port: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let lastError: Error | undefined;
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.once('close', () => resolve(lastError));
  });
}
