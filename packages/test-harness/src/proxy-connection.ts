import type * as net from 'node:net';
import type { FaultState } from './fault-state.js';

/** Close a socket at once: a TCP reset when connected, a plain destroy otherwise. */
export function hardClose(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * Forwards the bytes of one direction of one connection, in order, applying the proxy's
 * faults (stall, delay, drop, corrupt, close-after-bytes) on the way.
 */
class Pump {
  private readonly queue: { chunk: Buffer; dueAt: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sourceEnded = false;
  private closeWhenFlushed = false;
  private waitingForDrain = false;
  private finished = false;

  constructor(
    private readonly faults: FaultState,
    private readonly connection: ProxyConnection,
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    readonly direction: 'upstream' | 'downstream',
  ) {}

  /** Queue a chunk read from the source. */
  push(chunk: Buffer): void {
    const delay = this.faults.delayMs;
    this.queue.push({ chunk, dueAt: delay > 0 ? Date.now() + delay : 0 });
    this.faults.pendingBytes += chunk.length;
    this.flush();
  }

  /** The source sent FIN: half-close the destination once everything queued is forwarded. */
  endAfterFlush(): void {
    this.sourceEnded = true;
    this.flush();
  }

  /** The source is gone: end and destroy the destination once everything queued is forwarded. */
  closeAfterFlush(): void {
    this.sourceEnded = true;
    this.closeWhenFlushed = true;
    if (this.finished && !this.connection.cut && !this.to.destroyed) {
      if (this.to.writableFinished) this.to.destroy();
      else this.to.end(() => this.to.destroy());
      return;
    }
    this.flush();
  }

  /** Forget everything queued (the connection was cut). */
  discard(): void {
    for (const { chunk } of this.queue) this.faults.pendingBytes -= chunk.length;
    this.queue.length = 0;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Forward whatever is due; called on new data, on resume and by the delay timer. */
  flush(): void {
    this.forwardDue();
    this.faults.onChange();
  }

  private forwardDue(): void {
    if (this.finished || this.connection.cut) return;
    while (this.queue.length > 0) {
      if (this.faults.stalled) return;
      const head = this.queue[0] as { chunk: Buffer; dueAt: number };
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        if (this.timer === undefined) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.flush();
          }, wait);
        }
        return;
      }
      this.queue.shift();
      this.faults.pendingBytes -= head.chunk.length;
      if (!this.forward(head.chunk)) return;
    }
    if (this.sourceEnded && !this.faults.stalled) {
      this.finished = true;
      if (this.to.destroyed) return;
      if (this.closeWhenFlushed) this.to.end(() => this.to.destroy());
      else this.to.end();
    }
  }

  /** Write one chunk after faults; returns false when the connection was cut meanwhile. */
  private forward(original: Buffer): boolean {
    const chunk = this.faults.apply(original, this.direction);
    if (chunk === undefined || chunk.length === 0) return true;
    const limit = this.faults.closeAfter;
    if (limit !== undefined) {
      const remaining = limit - this.connection.forwardedBytes;
      if (chunk.length >= remaining) {
        const part = chunk.subarray(0, Math.max(0, remaining));
        this.connection.forwardedBytes += part.length;
        this.faults.forwardedBytes += part.length;
        this.connection.cutAfterWrite(this.to, part);
        return false;
      }
    }
    this.connection.forwardedBytes += chunk.length;
    this.faults.forwardedBytes += chunk.length;
    if (this.to.destroyed) return true;
    if (!this.to.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.from.pause();
      this.to.once('drain', () => {
        this.waitingForDrain = false;
        this.from.resume();
      });
    }
    return true;
  }
}

/** One client connection and its connection to the real server. */
export class ProxyConnection {
  readonly upstream: Pump;
  readonly downstream: Pump;
  /** Bytes forwarded in both directions together (after faults). */
  forwardedBytes = 0;
  /** True once the pair was cut on purpose or by an error. */
  cut = false;
  private openSockets = 2;

  constructor(
    private readonly faults: FaultState,
    readonly client: net.Socket,
    readonly server: net.Socket,
    private readonly onGone: (connection: ProxyConnection) => void,
  ) {
    this.upstream = new Pump(faults, this, client, server, 'upstream');
    this.downstream = new Pump(faults, this, server, client, 'downstream');
    client.on('data', (chunk: Buffer) => this.upstream.push(chunk));
    server.on('data', (chunk: Buffer) => this.downstream.push(chunk));
    client.on('end', () => this.upstream.endAfterFlush());
    server.on('end', () => this.downstream.endAfterFlush());
    // Errors are expected here (resets are the point of this proxy); 'close' handles them.
    client.on('error', () => undefined);
    server.on('error', () => undefined);
    client.on('close', (hadError: boolean) => this.onSocketClose(this.upstream, hadError));
    server.on('close', (hadError: boolean) => this.onSocketClose(this.downstream, hadError));
  }

  /** Reset both sockets at once. */
  cutNow(): void {
    if (this.cut) return;
    this.cut = true;
    this.upstream.discard();
    this.downstream.discard();
    hardClose(this.client);
    hardClose(this.server);
  }

  /** Write the last allowed bytes, then close both sockets (close-after-bytes). */
  cutAfterWrite(to: net.Socket, last: Buffer): void {
    if (this.cut) return;
    this.cut = true;
    this.upstream.discard();
    this.downstream.discard();
    const other = to === this.client ? this.server : this.client;
    other.destroy();
    if (to.destroyed) return;
    if (last.length === 0) to.destroy();
    else to.end(last, () => to.destroy());
  }

  private onSocketClose(pumpFromClosed: Pump, hadError: boolean): void {
    this.openSockets -= 1;
    if (this.openSockets === 0) {
      this.onGone(this);
      return;
    }
    if (this.cut) return;
    if (hadError) this.cutNow();
    else pumpFromClosed.closeAfterFlush();
  }
}

