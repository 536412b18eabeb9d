/** Let a Node timer not keep the process alive (no-op in browsers). */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') timer.unref();
}

/** Normalise a thrown value to an `Error`. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The message of a thrown value (its string form when it is not an `Error`). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
