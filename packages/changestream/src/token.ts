import type { ResumeToken } from './types.js';

/**
 * Resume tokens are positions in a source's change log, written as fixed-width lower-case
 * hexadecimal so that string order is log order: 16 digits of a major position (a sequence
 * number, a PostgreSQL commit LSN, a Redis stream millisecond time), 8 digits of a minor
 * position (index within a transaction or stream sequence) and 2 digits of kind.
 */

/** Kind digit of a token that names a change event. */
export const TOKEN_KIND_EVENT = 0;
/** Kind digit of the token of an `invalidate` event that follows the event it is made from. */
export const TOKEN_KIND_INVALIDATE = 1;

const TOKEN_PATTERN = /^[0-9a-f]{26}$/;

/** The position before every change: resuming here loses nothing. */
export const ORIGIN_TOKEN_DATA = '0'.repeat(26);

/** Build token data from its parts. */
export function makeTokenData(major: bigint, minor: number, kind = TOKEN_KIND_EVENT): string {
  return major.toString(16).padStart(16, '0') + minor.toString(16).padStart(8, '0') + kind.toString(16).padStart(2, '0');
}

/** Split token data into its parts. */
export function splitTokenData(data: string): { major: bigint; minor: number; kind: number } {
  return {
    major: BigInt('0x' + data.slice(0, 16)),
    minor: Number.parseInt(data.slice(16, 24), 16),
    kind: Number.parseInt(data.slice(24, 26), 16),
  };
}

/** The token for an `invalidate` that follows the event with token data `data`. */
export function invalidateTokenData(data: string): string {
  return data.slice(0, 24) + TOKEN_KIND_INVALIDATE.toString(16).padStart(2, '0');
}

/** True when `value` is a well-formed resume token. */
export function isResumeToken(value: unknown): value is ResumeToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { _data?: unknown })._data === 'string' &&
    TOKEN_PATTERN.test((value as { _data: string })._data)
  );
}

/** Wrap token data as a token object. */
export function toResumeToken(data: string): ResumeToken {
  return { _data: data };
}
