/**
 * Race `promise` against a timer. Rejects with an `Error` whose message names `what` and the
 * limit when the timer fires first. The timer never keeps the process alive.
 *
 * @param promise - the awaited work
 * @param timeoutMs - the limit in milliseconds
 * @param what - a short description for the error message, e.g. `"redis-server to accept PING"`
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
