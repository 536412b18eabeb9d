import type { Dict, Payload } from '../messages.js';
import type { CallOptions, PublishOptions, RegisterOptions, SubscribeOptions } from './types.js';

/** The Options of a message that sets none: one shared, frozen dictionary (it is only ever serialized). */
const NO_OPTIONS: Dict = Object.freeze({});

/** The PUBLISH Options dictionary for `options`. */
export function publishOptionsDict(options: PublishOptions): Dict {
  if (isEmpty(options)) return NO_OPTIONS;
  const dict: Dict = { ...options.options };
  if (options.acknowledge === true) dict['acknowledge'] = true;
  if (options.excludeMe === false) dict['exclude_me'] = false;
  if (options.exclude !== undefined) dict['exclude'] = options.exclude;
  if (options.eligible !== undefined) dict['eligible'] = options.eligible;
  if (options.excludeAuthid !== undefined) dict['exclude_authid'] = options.excludeAuthid;
  if (options.eligibleAuthid !== undefined) dict['eligible_authid'] = options.eligibleAuthid;
  if (options.excludeAuthrole !== undefined) dict['exclude_authrole'] = options.excludeAuthrole;
  if (options.eligibleAuthrole !== undefined) dict['eligible_authrole'] = options.eligibleAuthrole;
  if (options.discloseMe === true) dict['disclose_me'] = true;
  if (options.retain === true) dict['retain'] = true;
  return dict;
}

/** The SUBSCRIBE Options dictionary for `options`. */
export function subscribeOptionsDict(options: SubscribeOptions): Dict {
  const dict: Dict = { ...options.options };
  if (options.match !== undefined && options.match !== 'exact') dict['match'] = options.match;
  if (options.getRetained === true) dict['get_retained'] = true;
  return dict;
}

/** The REGISTER Options dictionary for `options`. */
export function registerOptionsDict(options: RegisterOptions): Dict {
  const dict: Dict = { ...options.options };
  if (options.match !== undefined && options.match !== 'exact') dict['match'] = options.match;
  if (options.invoke !== undefined) dict['invoke'] = options.invoke;
  if (options.discloseCaller === true) dict['disclose_caller'] = true;
  return dict;
}

/** The CALL Options dictionary for `options`. */
export function callOptionsDict(options: CallOptions): Dict {
  if (isEmpty(options)) return NO_OPTIONS;
  const dict: Dict = { ...options.options };
  if (options.receiveProgress === true) dict['receive_progress'] = true;
  if (options.progressive === true || options.inputs !== undefined) dict['progress'] = true;
  if (options.timeoutMs !== undefined) dict['timeout'] = options.timeoutMs;
  if (options.discloseMe === true) dict['disclose_me'] = true;
  return dict;
}

/** True when `options` sets nothing (the `{}` default, or only `undefined` values). */
function isEmpty(options: object): boolean {
  for (const key in options) if ((options as Record<string, unknown>)[key] !== undefined) return false;
  return true;
}

/** Set args/kwargs on `message`, leaving out what is empty (kwargs need args, possibly empty). */
export function setPayload(message: Payload, args: unknown[] | undefined, kwargs: Dict | undefined): void {
  if (kwargs !== undefined && Object.keys(kwargs).length > 0) {
    message.args = args ?? [];
    message.kwargs = kwargs;
  } else if (args !== undefined && args.length > 0) message.args = args;
}
