export { FaultProxy, type FaultDirection, type FaultProxyOptions, type ProxyTarget } from './fault-proxy.js';
export { freePort } from './free-port.js';
export { registerExitCleanup } from './exit-cleanup.js';
export {
  allOf,
  DEBIAN_PYTHON,
  hasCommand,
  hasPython3Module,
  isCI,
  peerAvailable,
  type PeerCheck,
  type PeerCheckResult,
} from './peer-available.js';
export {
  startProcessPeer,
  type PeerExit,
  type PeerProcess,
  type ProcessPeerOptions,
  type WaitForLineOptions,
} from './process-peer.js';
export { startPythonPeer, type PythonPeerOptions } from './python-peer.js';
export { pingRedis, startRedis, type RedisOptions, type RedisServer } from './redis-server.js';
export { POSTGRES_BIN_DIR, startPostgres, type PostgresOptions, type PostgresServer } from './postgres-server.js';
export { serverFactory, useTeardown, withTeardown, type TeardownFn } from './teardown.js';
export { withTimeout } from './timeout.js';
export { findMismatch, formatValue, matches, type Matcher } from './matcher.js';
export { formatTranscript, type TranscriptEntry } from './transcript.js';
export type { ScriptedConnection, ScriptMessage, ScriptStep, StepContext } from './script-runner.js';
export { startScriptedServer, type ScriptedServer, type ScriptedServerOptions } from './scripted-server.js';
export { bundleForBrowser, nodeBuiltinImports, type BrowserBundleOptions, type BrowserEntry } from './browser-bundle.js';
export { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, hasChromium, launchChromium, type Browser } from './chromium.js';
export { servePage, type PageServer } from './page-server.js';
export { readmeCodeBlocks, runReadmeQuickStart, type ReadmeQuickStartOptions } from './readme.js';
