import type { CallMessage, Dict } from '../messages.js';
import type { MatchPolicy } from '../uri.js';
import { copyEncryption } from './payload.js';
import type { RoutedSession } from './session-info.js';

/**
 * The INVOCATION details for `call` from `caller` to a callee of a registration with `match`:
 * the procedure for pattern registrations, `receive_progress`, caller disclosure (asked by the
 * callee with `disclose_caller` or by the caller with `disclose_me`), `timeout` and the payload's
 * encryption details.
 */
export function invocationDetails(caller: RoutedSession, call: CallMessage, match: MatchPolicy, discloseCaller: boolean): Dict {
  const options = call.options;
  const details: Dict = {};
  if (match !== 'exact') details['procedure'] = call.procedure;
  if (options['receive_progress'] === true) details['receive_progress'] = true;
  if (discloseCaller || options['disclose_me'] === true) {
    details['caller'] = caller.id;
    details['caller_authid'] = caller.authid;
    details['caller_authrole'] = caller.authrole;
  }
  const timeout = options['timeout'];
  if (typeof timeout === 'number' && timeout > 0) details['timeout'] = timeout;
  copyEncryption(options, details);
  return details;
}
