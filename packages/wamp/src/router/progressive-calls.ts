import type { Dict } from '../messages.js';
import type { RoutedSession } from './session-info.js';

/** The feature a caller and a callee must announce for progressive call invocations. */
export const PROGRESSIVE_CALL_INVOCATIONS = 'progressive_call_invocations';

/** True when `callee` can take progressive call invocations: it announced them and call canceling. */
export function takesProgressiveInvocations(callee: RoutedSession): boolean {
  return callee.supports('callee', PROGRESSIVE_CALL_INVOCATIONS)
    && (callee.supports('callee', 'call_canceling') || callee.supports('callee', 'call_cancelling'));
}

/** The caller side of a progressive call invocation (CALL with `progress: true`). */
export interface InputStream {
  /** The procedure of the initiating CALL: every chunk must name it. */
  readonly procedure: string;
  /** The registration the first CALL was routed to (every chunk goes to the same callee). */
  readonly registrationId: number;
  /** The INVOCATION details of the initiating CALL, repeated with every chunk (options are frozen). */
  readonly details: Dict;
  /** True until the caller's final chunk (a CALL without `progress`). */
  open: boolean;
}
