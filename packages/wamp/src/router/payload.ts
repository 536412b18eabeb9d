import type { Dict, Payload } from '../messages.js';

/** The Options/Details keys of payload passthru mode (end-to-end encryption). */
const ENCRYPTION_KEYS = ['enc_algo', 'enc_serializer', 'enc_key'] as const;

/** Copy the payload passthru (end-to-end encryption) keys of `from` into `to`. */
export function copyEncryption(from: Dict, to: Dict): void {
  for (const key of ENCRYPTION_KEYS) if (from[key] !== undefined) to[key] = from[key];
}

/** Copy the args/kwargs or transparent payload of `from` into `to` (only what is set); returns `to`. */
export function copyPayload<T extends Payload>(from: Payload, to: T): T {
  if (from.payload !== undefined) to.payload = from.payload;
  else {
    if (from.args !== undefined) to.args = from.args;
    if (from.kwargs !== undefined) to.kwargs = from.kwargs;
  }
  return to;
}
