import { delay, ReconnectPolicy, type ReconnectPolicyOptions, type Transport } from '@rt/transport';

/** The backoff used when the `reconnect` option is `true`. */
const DEFAULT_RECONNECT: ReconnectPolicyOptions = { initialDelayMs: 100, maxDelayMs: 5000 };

/** The backoff policy for a client's `reconnect` option (an options object, or `true` for the default). */
export function reconnectPolicy(option: boolean | ReconnectPolicyOptions | undefined): ReconnectPolicy {
  return new ReconnectPolicy(typeof option === 'object' ? option : DEFAULT_RECONNECT);
}

/**
 * Wait out each backoff delay of `policy`, then try `open` (connect and join), until it succeeds.
 * Resolves its transport, or `undefined` once the policy gives up or `signal` aborts.
 */
export async function reopen(policy: ReconnectPolicy, signal: AbortSignal, open: () => Promise<Transport>): Promise<Transport | undefined> {
  for (let attempt = 0; policy.canRetry(attempt) && !signal.aborted; attempt++) {
    try {
      await delay(policy.delayFor(attempt), signal);
    } catch {
      return undefined;
    }
    try {
      return await open();
    } catch {
      continue;
    }
  }
  return undefined;
}
