import type { DDPErrorObject } from '../errors.js';
import { INTERNAL_ERROR } from './error-objects.js';
import type { RateLimiter, RateLimitInput } from './rate-limiter.js';

/**
 * Count an invocation against the server's rate limits. Returns `undefined` when it may run,
 * or the error object to answer it with: `too-many-requests` when a rule refuses it, the
 * internal error when the limiter's user code (a predicate, callback or message) threw,
 * which is reported.
 */
export function rateLimitRefusal(limiter: RateLimiter, input: RateLimitInput, report: (error: unknown) => void): DDPErrorObject | undefined {
  try {
    const result = limiter.consume(input);
    return result.allowed ? undefined : limiter.errorFor(result).toErrorObject();
  } catch (error) {
    report(error);
    return INTERNAL_ERROR;
  }
}
