/**
 * Which way a fault applies: `upstream` is client → server, `downstream` is server → client,
 * `both` matches either (whichever chunk comes first).
 */
export type FaultDirection = 'both' | 'upstream' | 'downstream';

/** A pending one-shot fault: applies to the next `remaining` chunks or bytes in `direction`. */
interface FaultRule {
  direction: FaultDirection;
  remaining: number;
}

function applies(rule: FaultRule, direction: 'upstream' | 'downstream'): boolean {
  return rule.remaining > 0 && (rule.direction === 'both' || rule.direction === direction);
}

function prune(rules: FaultRule[]): void {
  for (let i = rules.length - 1; i >= 0; i -= 1) if ((rules[i] as FaultRule).remaining <= 0) rules.splice(i, 1);
}

/**
 * The faults a proxy applies and its byte counters, shared by all of its connections.
 * `onChange` runs after every change so waiters can re-check their conditions.
 */
export class FaultState {
  /** Delay applied to chunks read from now on, in milliseconds. */
  delayMs = 0;
  /** True while forwarding is stalled. */
  stalled = false;
  /** Per-connection byte budget, if any. */
  closeAfter: number | undefined;
  /** Bytes read and not forwarded yet. */
  pendingBytes = 0;
  /** Bytes forwarded over all connections. */
  forwardedBytes = 0;
  /** Chunks dropped so far. */
  droppedChunks = 0;
  /** Bytes flipped so far. */
  corruptedBytes = 0;
  private readonly drops: FaultRule[] = [];
  private readonly corruptions: FaultRule[] = [];

  constructor(readonly onChange: () => void) {}

  /** Drop the next `count` chunks in `direction`. */
  addDrop(count: number, direction: FaultDirection): void {
    if (count > 0) this.drops.push({ direction, remaining: count });
  }

  /** Flip the next `count` bytes in `direction`. */
  addCorruption(count: number, direction: FaultDirection): void {
    if (count > 0) this.corruptions.push({ direction, remaining: count });
  }

  /** Forget pending drops and corruptions, the delay and the byte budget. */
  clear(): void {
    this.delayMs = 0;
    this.drops.length = 0;
    this.corruptions.length = 0;
    this.closeAfter = undefined;
  }

  /** Apply drop and corruption rules to one chunk; `undefined` means dropped. */
  apply(chunk: Buffer, direction: 'upstream' | 'downstream'): Buffer | undefined {
    const drop = this.drops.find((rule) => applies(rule, direction));
    if (drop) {
      drop.remaining -= 1;
      this.droppedChunks += 1;
      prune(this.drops);
      return undefined;
    }
    let result = chunk;
    let offset = 0;
    for (const rule of this.corruptions) {
      if (offset >= result.length) break;
      if (!applies(rule, direction)) continue;
      if (result === chunk) result = Buffer.from(chunk);
      const count = Math.min(rule.remaining, result.length - offset);
      for (let i = offset; i < offset + count; i += 1) result[i] = (result[i] as number) ^ 0xff;
      rule.remaining -= count;
      this.corruptedBytes += count;
      offset += count;
    }
    prune(this.corruptions);
    return result;
  }
}
