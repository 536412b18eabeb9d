#!/usr/bin/env node
// Installs the Debian packages listed in debian-packages.txt that are not installed yet.
//
//   node tooling/peers/install.mjs            install what is missing (apt-get, as root or through sudo)
//   node tooling/peers/install.mjs --check    only report; exit 1 when something is missing
//
// npm peers are devDependencies of the packages whose tests use them, so `pnpm install` brings them.
// Without root or sudo this prints what is missing and exits 0: interop tests then skip outside CI
// and fail with CI set. With CI set, a failed installation is an error.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const listPath = join(here, 'debian-packages.txt');
const checkOnly = process.argv.includes('--check');
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

function log(line) {
  console.log(`peers: ${line}`);
}

function readPackageList() {
  return readFileSync(listPath, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

function hasCommand(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Packages of `names` that dpkg does not report as fully installed. */
function missingPackages(names) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package}\\t${db:Status-Abbrev}\\n', ...names], {
    encoding: 'utf8',
  });
  const installed = new Set();
  for (const line of (result.stdout ?? '').split('\n')) {
    const [name, status] = line.split('\t');
    if (name && status?.startsWith('ii')) installed.add(name.split(':')[0]);
  }
  return names.filter((name) => !installed.has(name));
}

/** How to run apt-get with root rights, or undefined when that is not possible. */
function privilegePrefix() {
  if (process.getuid?.() === 0) return [];
  if (hasCommand('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  if (hasCommand('sudo') && process.stdin.isTTY) return ['sudo'];
  return undefined;
}

function run(prefix, args) {
  const [command, ...rest] = [...prefix, ...args];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const result = spawnSync(command, rest, { stdio: ['inherit', 'ignore', 'inherit'], env });
  return result.status === 0;
}

function giveUp(message) {
  if (inCi) {
    console.error(`peers: error: ${message}`);
    process.exit(1);
  }
  log(`warning: ${message}`);
  log('interop tests whose peer is missing will be skipped (outside CI only).');
  process.exit(0);
}

const wanted = readPackageList();
if (!hasCommand('dpkg-query') || !hasCommand('apt-get')) {
  giveUp(`not a Debian system; install these peers yourself: ${wanted.join(' ')}`);
}

const missing = missingPackages(wanted);
if (missing.length === 0) {
  log(`all ${wanted.length} Debian peers installed`);
  process.exit(0);
}
if (checkOnly) {
  log(`missing: ${missing.join(' ')}`);
  process.exit(1);
}

const prefix = privilegePrefix();
if (prefix === undefined) {
  giveUp(`missing ${missing.join(' ')}, and installing needs root or sudo: sudo apt-get install -y ${missing.join(' ')}`);
}

log(`installing ${missing.join(' ')} (apt-get, output quietened)`);
if (!run(prefix, ['apt-get', 'update', '-qq'])) giveUp('apt-get update failed');
if (!run(prefix, ['apt-get', 'install', '-y', '-qq', ...missing])) giveUp(`apt-get install failed for ${missing.join(' ')}`);

const stillMissing = missingPackages(wanted);
if (stillMissing.length > 0) giveUp(`still missing after apt-get: ${stillMissing.join(' ')}`);
log(`all ${wanted.length} Debian peers installed`);
