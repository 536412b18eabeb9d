/** Error and close reason URIs defined by the WAMP specification. */
export const ErrorUri = {
  INVALID_URI: 'wamp.error.invalid_uri',
  NO_SUCH_PROCEDURE: 'wamp.error.no_such_procedure',
  PROCEDURE_ALREADY_EXISTS: 'wamp.error.procedure_already_exists',
  NO_SUCH_REGISTRATION: 'wamp.error.no_such_registration',
  NO_SUCH_SUBSCRIPTION: 'wamp.error.no_such_subscription',
  INVALID_ARGUMENT: 'wamp.error.invalid_argument',
  SYSTEM_SHUTDOWN: 'wamp.close.system_shutdown',
  CLOSE_REALM: 'wamp.close.close_realm',
  GOODBYE_AND_OUT: 'wamp.close.goodbye_and_out',
  CLOSE_NORMAL: 'wamp.close.normal',
  PROTOCOL_VIOLATION: 'wamp.error.protocol_violation',
  NOT_AUTHORIZED: 'wamp.error.not_authorized',
  AUTHORIZATION_FAILED: 'wamp.error.authorization_failed',
  AUTHENTICATION_FAILED: 'wamp.error.authentication_failed',
  NO_AUTH_METHOD: 'wamp.error.no_auth_method',
  NO_SUCH_REALM: 'wamp.error.no_such_realm',
  NO_SUCH_ROLE: 'wamp.error.no_such_role',
  NO_SUCH_SESSION: 'wamp.error.no_such_session',
  CANCELED: 'wamp.error.canceled',
  OPTION_NOT_ALLOWED: 'wamp.error.option_not_allowed',
  NO_ELIGIBLE_CALLEE: 'wamp.error.no_eligible_callee',
  OPTION_DISALLOWED_DISCLOSE_ME: 'wamp.error.option_disallowed.disclose_me',
  NETWORK_FAILURE: 'wamp.error.network_failure',
  TIMEOUT: 'wamp.error.timeout',
  UNAVAILABLE: 'wamp.error.unavailable',
  NO_AVAILABLE_CALLEE: 'wamp.error.no_available_callee',
  FEATURE_NOT_SUPPORTED: 'wamp.error.feature_not_supported',
  RUNTIME_ERROR: 'wamp.error.runtime_error',
} as const;

/**
 * Reasons this implementation adds to the specification's, outside the reserved `wamp.` namespace.
 * `SLOW_CONSUMER`: the router ended the session because its peer stopped reading (ABORT reason).
 */
export const RtErrorUri = {
  SLOW_CONSUMER: 'rt.error.slow_consumer',
} as const;
