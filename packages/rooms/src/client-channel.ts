import { ProtocolError, TimeoutError, type Transport, type TransportMessage } from '@rt/transport';
import { decodeMessage, type RoomMessage } from './protocol.js';
import { unrefTimer } from './util.js';

/** Decode one frame from the server; text frames are a `ProtocolError`. */
export function decodeFrame(frame: TransportMessage): RoomMessage {
  if (typeof frame === 'string') throw new ProtocolError('text frames are not part of the y-protocols wire format');
  return decodeMessage(frame);
}

/** Queue `message` on `channel`; dropped when the channel is no longer open (the session loop notices). */
export function writeFrame(channel: Transport, message: Uint8Array): void {
  if (channel.state !== 'open') return;
  try {
    channel.write(message);
  } catch {
    // The channel closed under us; the session loop notices.
  }
}

/**
 * Abort `channel` once nothing came from the server for `idleTimeoutMs` (`lastReceivedAt`
 * tells when something last did). Returns the timer to clear, or `undefined` when the
 * timeout is 0 (disabled).
 */
export function startIdleWatchdog(
  channel: Transport,
  idleTimeoutMs: number,
  lastReceivedAt: () => number,
): ReturnType<typeof setInterval> | undefined {
  if (idleTimeoutMs <= 0) return undefined;
  const timer = setInterval(
    () => {
      if (Date.now() - lastReceivedAt() > idleTimeoutMs) {
        channel.abort(new TimeoutError(`no message from the server for ${idleTimeoutMs} ms`, idleTimeoutMs));
      }
    },
    Math.max(50, Math.floor(idleTimeoutMs / 10)),
  );
  unrefTimer(timer);
  return timer;
}
