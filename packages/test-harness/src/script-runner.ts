import type { Socket } from 'node:net';
import type { Codec, Transport, TransportMessage } from '@rt/transport';
import { findMismatch, formatValue, type Matcher } from './matcher.js';
import { formatTranscript, type TranscriptEntry } from './transcript.js';

/** What a `send` function sees: the messages received so far on this connection. */
export interface StepContext {
  /** The last message received (decoded), or `undefined` before the first. */
  readonly last: unknown;
  /** Every message received so far (decoded), oldest first. */
  readonly received: readonly unknown[];
  /** Index of this connection on its server (0 for the first). */
  readonly connection: number;
}

/** A message a script sends: anything the codec encodes, or a string / bytes without a codec. */
export type ScriptMessage = string | number | boolean | null | object;

/**
 * One step of a script, run in order on each connection:
 *
 * - `{ expect }`: wait for the next message and compare it (see {@link Matcher}); fails on a
 *   mismatch, on a close, or when nothing arrives within `timeoutMs`.
 * - `{ send }`: send a message (encoded with the codec, when one is set); a function receives
 *   the {@link StepContext}, e.g. to echo a request id.
 * - `{ sendRaw }`: write bytes on the socket as they are, bypassing the codec and the framing
 *   (for WebSocket, not wrapped in a frame: a broken frame is the point).
 * - `{ close }`: close with this code and reason (a WebSocket close frame; TCP: FIN).
 * - `{ cut: true }`: reset the connection at once.
 * - `{ wait }`: pause for this many milliseconds (misbehaviour only: a slow answer).
 * - `{ silent: true }`: stop answering: record whatever arrives until the connection closes;
 *   steps after it never run.
 * - `{ expectClose }`: wait until the client closes (with this code, for WebSocket, when a
 *   number is given); messages arriving meanwhile are recorded and ignored.
 */
export type ScriptStep =
  | { expect: Matcher; label?: string; timeoutMs?: number }
  | { send: ScriptMessage | ((context: StepContext) => unknown); label?: string }
  | { sendRaw: Uint8Array | string }
  | { close: number; reason?: string }
  | { cut: true }
  | { wait: number }
  | { silent: true }
  | { expectClose: true | number; timeoutMs?: number };

/** A connection accepted by a scripted server, with its transcript. */
export interface ScriptedConnection {
  /** Index on the server (0 for the first connection). */
  readonly index: number;
  /** Everything that happened, in order. */
  readonly transcript: readonly TranscriptEntry[];
  /** The decoded messages received so far. */
  readonly received: readonly unknown[];
  /** Resolves when every step ran; rejects with a diff when one failed. */
  readonly finished: Promise<void>;
}

/** What a runner needs besides the transport. */
export interface RunnerOptions {
  /** Index of the connection on its server. */
  index: number;
  /** The script of this connection. */
  steps: readonly ScriptStep[];
  /** Decodes incoming and encodes outgoing messages, when set. */
  codec: Codec | undefined;
  /** Default wait of `expect` and `expectClose` steps. */
  expectTimeoutMs: number;
  /** `performance.now()` when the server started; transcript times are relative to it. */
  startedAt: number;
  /** The TCP socket under the transport (for `sendRaw` and `cut`). */
  socket: Socket | undefined;
  /** True once the server is closing: failures are no longer reported. */
  stopping: () => boolean;
}

/** A step failed for a reason the transcript explains (as opposed to a transport error). */
class StepFailure extends Error {}

function describeStep(step: ScriptStep): string {
  return formatValue(step).replace(/^\{"/, '{ "').replace(/\}$/, ' }');
}

/** Runs one script on one connection and records its transcript. */
export class ScriptRunner implements ScriptedConnection {
  readonly transcript: TranscriptEntry[] = [];
  readonly received: unknown[] = [];
  readonly finished: Promise<void>;
  private closeInfo: { code: number; reason: string } | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: RunnerOptions,
  ) {
    void transport.closed.then((info) => {
      this.closeInfo = info;
      this.record({ kind: 'closed', code: info.code, reason: info.reason, wasClean: info.wasClean });
    });
    this.finished = this.run();
    this.finished.catch(() => undefined);
  }

  get index(): number {
    return this.options.index;
  }

  private now(): number {
    return Math.round(performance.now() - this.options.startedAt);
  }

  private record(entry: DistributiveOmit<TranscriptEntry, 'at'>): void {
    this.transcript.push({ ...entry, at: this.now() } as TranscriptEntry);
  }

  private async run(): Promise<void> {
    const { steps } = this.options;
    for (let i = 0; i < steps.length; i += 1) {
      const step = steps[i] as ScriptStep;
      try {
        const keepGoing = await this.runStep(step);
        if (!keepGoing) return;
      } catch (error) {
        if (this.options.stopping()) return;
        const reason = error instanceof Error ? error.message : String(error);
        this.record({ kind: 'failed', step: i + 1, message: reason });
        if (this.transport.state === 'open') void this.transport.close(1011, 'scripted server: step failed');
        throw new Error(
          `scripted server, connection #${this.index}, step ${i + 1} of ${steps.length} ${describeStep(step)}:\n` +
            `  ${reason.replaceAll('\n', '\n  ')}\ntranscript:\n${formatTranscript(this.transcript)}`,
          { cause: error },
        );
      }
    }
    void this.recordRest();
  }

  /** Run one step; false ends the script early (silent). */
  private async runStep(step: ScriptStep): Promise<boolean> {
    if ('expect' in step) await this.expectMessage(step.expect, step.timeoutMs ?? this.options.expectTimeoutMs);
    else if ('send' in step) await this.send(step.send);
    else if ('sendRaw' in step) this.sendRaw(step.sendRaw);
    else if ('close' in step) {
      this.record({ kind: 'server-closed', code: step.close, reason: step.reason ?? '' });
      await this.transport.close(step.close, step.reason ?? '');
    } else if ('cut' in step) {
      this.record({ kind: 'server-cut' });
      if (this.options.socket) this.options.socket.resetAndDestroy();
      else this.transport.abort();
      await this.transport.closed;
    } else if ('wait' in step) await new Promise((resolve) => setTimeout(resolve, step.wait));
    else if ('silent' in step) {
      await this.recordRest();
      return false;
    } else if ('expectClose' in step) await this.expectClose(step.expectClose, step.timeoutMs ?? this.options.expectTimeoutMs);
    return true;
  }

  private async receive(timeoutMs: number | undefined): Promise<{ message: unknown } | undefined> {
    const raw = await this.transport.receive(timeoutMs === undefined ? {} : { timeoutMs });
    if (raw === undefined) return undefined;
    let message: unknown = raw;
    if (this.options.codec) {
      try {
        message = this.options.codec.decode(raw);
      } catch (error) {
        this.record({ kind: 'received', message: raw });
        throw new StepFailure(
          `could not decode ${formatValue(raw)} with codec ${this.options.codec.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    this.received.push(message);
    this.record({ kind: 'received', message });
    return { message };
  }

  private async expectMessage(expected: Matcher, timeoutMs: number): Promise<void> {
    let got: { message: unknown } | undefined;
    try {
      got = await this.receive(timeoutMs);
    } catch (error) {
      if (error instanceof StepFailure) throw error;
      throw new StepFailure(`expected ${formatValue(expected)} but nothing arrived within ${timeoutMs} ms`);
    }
    if (got === undefined) {
      const how = this.closeInfo ? ` (${this.closeInfo.code}${this.closeInfo.reason ? ` ${this.closeInfo.reason}` : ''})` : '';
      throw new StepFailure(`expected ${formatValue(expected)} but the connection closed${how}`);
    }
    const mismatch = findMismatch(expected, got.message);
    if (mismatch !== undefined) {
      throw new StepFailure(`message did not match\n  expected: ${formatValue(expected)}\n  received: ${formatValue(got.message)}\n  first difference: ${mismatch}`);
    }
  }

  private async expectClose(code: true | number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = Math.max(1, Math.round(deadline - performance.now()));
      let got: { message: unknown } | undefined;
      try {
        got = await this.receive(left);
      } catch (error) {
        if (error instanceof StepFailure) continue;
        throw new StepFailure(`expected the client to close within ${timeoutMs} ms, but the connection is still open`);
      }
      if (got !== undefined) continue;
      const info = await this.transport.closed;
      if (code !== true && info.code !== code) throw new StepFailure(`expected a close with code ${code}, the connection closed with ${info.code}`);
      return;
    }
  }

  private async send(value: unknown): Promise<void> {
    const message =
      typeof value === 'function'
        ? (value as (context: StepContext) => unknown)({ last: this.received.at(-1), received: this.received, connection: this.index })
        : value;
    const encoded = this.options.codec ? this.options.codec.encode(message) : message;
    if (typeof encoded !== 'string' && !(encoded instanceof Uint8Array)) {
      throw new StepFailure(`cannot send ${formatValue(message)} without a codec: give a string or a Uint8Array`);
    }
    this.record({ kind: 'sent', message });
    await this.transport.send(encoded as TransportMessage);
  }

  private sendRaw(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.record({ kind: 'sent-raw', bytes });
    if (!this.options.socket) throw new StepFailure('sendRaw needs the socket under the transport, which is not available');
    this.options.socket.write(bytes);
  }

  /** After the script (or from `silent` on): keep recording what arrives until the close. */
  private async recordRest(): Promise<void> {
    for (;;) {
      try {
        if ((await this.receive(undefined)) === undefined) return;
      } catch (error) {
        if (!(error instanceof StepFailure)) return;
      }
    }
  }
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
