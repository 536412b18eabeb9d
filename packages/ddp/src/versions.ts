/** A DDP protocol version name. */
export type DDPVersion = '1' | 'pre2' | 'pre1';

/** Every DDP version this package speaks, most preferred first. */
export const SUPPORTED_VERSIONS: readonly DDPVersion[] = ['1', 'pre2', 'pre1'];

/** Whether `value` names a DDP version this package speaks. */
export function isSupportedVersion(value: string): value is DDPVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(value);
}

/**
 * The version a server should speak with a client: the client's most preferred version the
 * server also speaks, or, when they share none, the server's own favourite (which the
 * client will then refuse). This is the rule of DDP's connection procedure.
 */
export function chooseVersion(clientSupport: readonly string[], serverVersions: readonly string[]): string {
  const shared = clientSupport.find((version) => serverVersions.includes(version));
  return shared ?? (serverVersions[0] as string);
}

/** Whether `version` has `ping`/`pong` heartbeats (added in `pre2`). */
export function hasHeartbeats(version: string): boolean {
  return version !== 'pre1';
}
