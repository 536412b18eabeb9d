import { type CostLimits, resolveCostLimits, type ResolvedCostLimits } from './cost.js';
import type { RPCRequest } from './incoming-request.js';
import type { Handlers, MethodMap, UntypedMethods } from './method-map.js';
import type { Protocol } from './protocol.js';
import { JSONRPCv2 } from './protocol-v2.js';

/** Limits a session enforces (the defaults follow aiorpcx). */
export interface SessionLimits {
  /** Largest batch accepted; a longer one is answered with one -32600 error. Default 1000. */
  maxBatchLength?: number;
  /** A result larger than this many bytes is replaced by a -32600 `response too large` error. Default 0 (no limit). */
  maxResponseSize?: number;
  /** Incoming requests handled at once; more wait their turn. Default 20. */
  maxConcurrentRequests?: number;
  /** An incoming request not answered within this many ms is answered with -102 (server busy). Default 30000. */
  processingTimeoutMs?: number;
  /** Default timeout of `sendRequest` and `sendBatch`, in ms. Default 30000. */
  requestTimeoutMs?: number;
  /** Abort the connection when the send buffer stays full this long, in ms. Default 20000. */
  maxSendDelayMs?: number;
  /** Cost-based throttling of the peer. */
  cost?: CostLimits;
}

/** Options of a session. */
export interface SessionOptions<Local extends MethodMap<Local> = UntypedMethods> extends SessionLimits {
  /** The JSON-RPC dialect. Default `JSONRPCv2`. */
  protocol?: Protocol;
  /** Answer requests from this map (unless `handleRequest` is overridden). */
  handlers?: Handlers<Local>;
  /**
   * Notification sent when a request is aborted or times out, with params `{ id }`
   * (LSP's `$/cancelRequest`); incoming ones abort the named request's signal.
   * Default: `$/cancelRequest` with Content-Length framing, none otherwise.
   */
  cancelMethod?: string | null;
  /**
   * Called with errors from user code: what a handler threw that was not an `RPCError`
   * (answered with -32603), with its request; or what `connectionLost` or `extraCost` threw, without one.
   */
  onError?: (error: unknown, request: RPCRequest | undefined) => void;
}

/** Session options with every default applied. */
export interface ResolvedSessionOptions {
  readonly protocol: Protocol;
  readonly maxBatchLength: number;
  readonly maxResponseSize: number;
  readonly maxConcurrentRequests: number;
  readonly processingTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxSendDelayMs: number;
  readonly cost: ResolvedCostLimits;
  readonly cancelMethod: string | null;
}

/** Apply defaults: `own` options win over `inherited` ones (from a server or `connect`). */
export function resolveSessionOptions(
  own: SessionOptions,
  inherited: SessionOptions,
  server: boolean,
): ResolvedSessionOptions {
  const pick = <K extends keyof SessionOptions>(key: K): SessionOptions[K] =>
    own[key] !== undefined ? own[key] : inherited[key];
  return {
    protocol: pick('protocol') ?? JSONRPCv2,
    maxBatchLength: pick('maxBatchLength') ?? 1000,
    maxResponseSize: pick('maxResponseSize') ?? 0,
    maxConcurrentRequests: pick('maxConcurrentRequests') ?? 20,
    processingTimeoutMs: pick('processingTimeoutMs') ?? 30_000,
    requestTimeoutMs: pick('requestTimeoutMs') ?? 30_000,
    maxSendDelayMs: pick('maxSendDelayMs') ?? 20_000,
    cost: resolveCostLimits({ ...inherited.cost, ...own.cost }, server),
    cancelMethod: pick('cancelMethod') ?? null,
  };
}
