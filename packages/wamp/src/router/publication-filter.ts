import type { Dict } from '../messages.js';
import type { SessionInfo } from './session-info.js';

/** The receiver filter of a publication: its black- and whitelists by session id, authid and authrole. */
export interface PublicationFilter {
  readonly exclude: Set<number> | undefined;
  readonly excludeAuthid: Set<string> | undefined;
  readonly excludeAuthrole: Set<string> | undefined;
  readonly eligible: Set<number> | undefined;
  readonly eligibleAuthid: Set<string> | undefined;
  readonly eligibleAuthrole: Set<string> | undefined;
}

const setOf = <T>(value: unknown): Set<T> | undefined => (Array.isArray(value) ? new Set(value as T[]) : undefined);

/** The receiver filter of PUBLISH `options`, or `undefined` when they set none (the usual case). */
export function filterOf(options: Dict): PublicationFilter | undefined {
  const exclude = options['exclude'];
  const excludeAuthid = options['exclude_authid'];
  const excludeAuthrole = options['exclude_authrole'];
  const eligible = options['eligible'];
  const eligibleAuthid = options['eligible_authid'];
  const eligibleAuthrole = options['eligible_authrole'];
  if (!Array.isArray(exclude) && !Array.isArray(excludeAuthid) && !Array.isArray(excludeAuthrole)
    && !Array.isArray(eligible) && !Array.isArray(eligibleAuthid) && !Array.isArray(eligibleAuthrole)) return undefined;
  return {
    exclude: setOf(exclude), excludeAuthid: setOf(excludeAuthid), excludeAuthrole: setOf(excludeAuthrole),
    eligible: setOf(eligible), eligibleAuthid: setOf(eligibleAuthid), eligibleAuthrole: setOf(eligibleAuthrole),
  };
}

/** True when `filter` lets `session` receive the publication. */
export function allowed(session: SessionInfo, filter: PublicationFilter): boolean {
  if (filter.exclude?.has(session.id) === true) return false;
  if (filter.excludeAuthid?.has(session.authid) === true) return false;
  if (filter.excludeAuthrole?.has(session.authrole) === true) return false;
  if (filter.eligible !== undefined && !filter.eligible.has(session.id)) return false;
  if (filter.eligibleAuthid !== undefined && !filter.eligibleAuthid.has(session.authid)) return false;
  if (filter.eligibleAuthrole !== undefined && !filter.eligibleAuthrole.has(session.authrole)) return false;
  return true;
}
