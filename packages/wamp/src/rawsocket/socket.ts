import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ConnectionError, Heartbeat, ProtocolError, StreamTransport, TimeoutError, type Transport } from '@rt/transport';
import {
  decodeHandshake, encodeHandshake, encodeHandshakeError, FrameType, HandshakeError, RAWSOCKET_MAX_LENGTH, RawSocketFramer,
  type Handshake,
} from './framer.js';

/** Read the 4 handshake bytes; any bytes after them are pushed back onto the socket. */
function readHandshake(socket: Socket, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new TimeoutError('no RawSocket handshake in time', timeoutMs)), timeoutMs);
    const finish = (error?: Error, handshake?: Handshake): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (error !== undefined) reject(error);
      else resolve(handshake as Handshake);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      socket.pause();
      const rest = received.subarray(4);
      if (rest.length > 0) socket.unshift(rest);
      try {
        finish(undefined, decodeHandshake(received.subarray(0, 4)));
      } catch (error) {
        finish(error as Error);
      }
    };
    const onClose = (): void => finish(new ConnectionError('the connection closed during the RawSocket handshake'));
    const onError = (error: Error): void => finish(new ConnectionError(`RawSocket handshake failed: ${error.message}`, { cause: error }));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

function wrap(socket: Socket, maxLength: number, peerMaxLength: number, pingIntervalMs: number | undefined): Transport {
  const framer = new RawSocketFramer({
    maxSize: maxLength,
    peerMaxSize: peerMaxLength,
    onPing: (payload) => socket.write(RawSocketFramer.frame(FrameType.PONG, payload)),
  });
  const transport = new StreamTransport(socket, { framer, text: false });
  if (pingIntervalMs !== undefined) {
    // Any traffic from the peer counts as a pong.
    const watch = new Heartbeat({
      intervalMs: pingIntervalMs,
      timeoutMs: pingIntervalMs,
      sendPing: () => socket.write(RawSocketFramer.frame(FrameType.PING, new Uint8Array(0))),
      onTimeout: () => transport.abort(new ConnectionError(`the RawSocket peer was silent for ${pingIntervalMs} ms after a ping`)),
    });
    socket.on('data', () => watch.alive());
    void transport.closed.then(() => watch.stop());
    watch.start();
  }
  socket.resume();
  return transport;
}

/** Options for `connectRawSocket`. */
export interface RawSocketConnectOptions {
  /** Router host. */
  host: string;
  /** Router RawSocket port. */
  port: number;
  /** RawSocket serializer id: 1 JSON, 2 MessagePack. */
  serializerId: number;
  /** Largest message this side accepts (default 16 MiB). */
  maxLength?: number;
  /** Use TLS (`tcps://`). */
  tls?: boolean | ConnectionOptions;
  /** Give up connecting and handshaking after this long (default 10 s). */
  timeoutMs?: number;
  /** Ping the router after this much silence and drop the connection if it stays silent as long again. */
  pingIntervalMs?: number;
}

/** Open a RawSocket connection: TCP (or TLS), the 0x7F handshake, then length-prefixed frames. */
export async function connectRawSocket(options: RawSocketConnectOptions): Promise<Transport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxLength = options.maxLength ?? RAWSOCKET_MAX_LENGTH;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const tlsOptions = typeof options.tls === 'object' ? options.tls : {};
    const s = options.tls
      ? tlsConnect({ host: options.host, port: options.port, servername: options.host, ...tlsOptions }, () => resolve(s))
      : netConnect({ host: options.host, port: options.port }, () => resolve(s));
    s.once('error', (error) => reject(new ConnectionError(`cannot connect to ${options.host}:${options.port}: ${error.message}`, { cause: error })));
    s.setTimeout(timeoutMs, () => s.destroy(new TimeoutError('RawSocket connect timed out', timeoutMs)));
  });
  socket.setTimeout(0);
  socket.removeAllListeners('error');
  socket.setNoDelay(true);
  socket.write(encodeHandshake(options.serializerId, maxLength));
  let reply: Handshake;
  try {
    reply = await readHandshake(socket, timeoutMs);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  if (!reply.ok) {
    socket.destroy();
    throw new ProtocolError(`the router refused the RawSocket handshake (error ${reply.error})`);
  }
  if (reply.serializerId !== options.serializerId) {
    socket.destroy();
    throw new ProtocolError(`the router answered with serializer ${reply.serializerId}`);
  }
  return wrap(socket, maxLength, reply.maxLength, options.pingIntervalMs);
}

/**
 * Router side: read a client's handshake, answer it, and wrap the socket. Resolves
 * `undefined` (after refusing) when the client asked for an unsupported serializer.
 */
export async function acceptRawSocket(
  socket: Socket,
  supported: number[],
  options: { maxLength?: number | undefined; pingIntervalMs?: number | undefined; timeoutMs?: number } = {},
): Promise<{ transport: Transport; serializerId: number } | undefined> {
  const maxLength = options.maxLength ?? RAWSOCKET_MAX_LENGTH;
  socket.setNoDelay(true);
  let handshake: Handshake;
  try {
    handshake = await readHandshake(socket, options.timeoutMs ?? 10_000);
  } catch {
    socket.destroy();
    return undefined;
  }
  if (!handshake.ok || !supported.includes(handshake.serializerId)) {
    const code = handshake.ok ? HandshakeError.SERIALIZER_UNSUPPORTED : HandshakeError.RESERVED_BITS_USED;
    socket.end(encodeHandshakeError(code));
    return undefined;
  }
  socket.write(encodeHandshake(handshake.serializerId, maxLength));
  return { transport: wrap(socket, maxLength, handshake.maxLength, options.pingIntervalMs), serializerId: handshake.serializerId };
}
