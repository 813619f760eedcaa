#!/usr/bin/env node
// Runs before `npm start` and `npm test` (prestart/pretest), possibly before node_modules exists, so it
// uses Node built-ins only. Each step runs only when needed:
//   1. dependencies: `npm ci` when node_modules is missing or older than package-lock.json;
//   2. TypeScript build when dist is missing or a .ts file is newer than the last build;
//   3. the Temporal CLI (built from source on first use), so its progress shows before anything else.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const rel = (p) => path.relative(root, p) || '.';
const shown = (arg) => (arg === process.execPath ? 'node' : arg.startsWith(root) ? rel(arg) : arg);

function say(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function fail(message) {
  say(`FAILED: ${message}`);
  process.exit(1);
}

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Runs a command in the repo root with our stdio; fails the bootstrap when it fails. */
function run(command, args, what) {
  say(`${what}: ${[command, ...args].map(shown).join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (result.error) fail(`${what}: could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${what} ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.status}`}`);
  }
}

/** npm as the running npm when we are an npm script, so the same npm version does the install. */
function npmCommand(args) {
  const npmCli = process.env.npm_execpath;
  if (npmCli && npmCli.endsWith('.js')) return [process.execPath, [npmCli, ...args]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
}

function npm(args, what) {
  const [command, fullArgs] = npmCommand(args);
  run(command, fullArgs, what);
}

/** Like npm() but reports failure instead of exiting. */
function tryNpm(args, what) {
  const [command, fullArgs] = npmCommand(args);
  say(`${what}: ${[command, ...fullArgs].map(shown).join(' ')}`);
  const result = spawnSync(command, fullArgs, { cwd: root, stdio: 'inherit', env: process.env });
  return !result.error && result.status === 0;
}

function ensureDependencies() {
  const nodeModules = path.join(root, 'node_modules');
  const lock = path.join(root, 'package-lock.json');
  const installedLock = path.join(nodeModules, '.package-lock.json');
  const lockTime = mtimeMs(lock);
  const installedTime = mtimeMs(installedLock);
  // A linked node_modules (a worktree sharing another checkout's) is that checkout's to install: npm ci here
  // would empty the folder it points at, under whatever runs from there.
  if (fs.lstatSync(nodeModules, { throwIfNoEntry: false })?.isSymbolicLink()) return;
  if (!fs.existsSync(nodeModules)) {
    say('node_modules is missing');
  } else if (lockTime !== undefined && (installedTime === undefined || lockTime > installedTime)) {
    say('package-lock.json is newer than node_modules');
  } else {
    return;
  }
  if (lockTime === undefined) {
    npm(['install'], 'installing dependencies (no package-lock.json)');
    return;
  }
  if (tryNpm(['ci'], 'installing dependencies')) return;
  // npm ci refuses a lock that lacks other platforms' optional packages (ours lacks the non-Linux
  // @swc/core-* ones); npm install still installs the versions the lock pins.
  say('npm ci failed; falling back to npm install, which keeps the locked versions');
  npm(['install'], 'installing dependencies');
}

/** Newest mtime of the .ts files under `dir` (0 when none). */
function newestTs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, mtimeMs(full) ?? 0);
  }
  return newest;
}

/** Removes compiled files whose .ts source is gone, so a deleted or renamed test doesn't still run. */
function pruneOrphans(distDir, srcDir) {
  let entries;
  try {
    entries = fs.readdirSync(distDir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(distDir, entry.name);
    if (entry.isDirectory()) {
      pruneOrphans(full, path.join(srcDir, entry.name));
      continue;
    }
    const base = entry.name.replace(/(\.d\.ts|\.js\.map|\.js)$/, '');
    if (base === entry.name) continue;
    if (!fs.existsSync(path.join(srcDir, `${base}.ts`))) fs.rmSync(full, { force: true });
  }
}

function ensureBuild() {
  const dist = path.join(root, 'dist');
  const buildInfo = path.join(dist, '.tsbuildinfo');
  const builtAt = mtimeMs(buildInfo);
  const newestSource = Math.max(
    newestTs(path.join(root, 'src')),
    newestTs(path.join(root, 'tools')),
    newestTs(path.join(root, 'test')),
    mtimeMs(path.join(root, 'tsconfig.json')) ?? 0,
  );
  if (builtAt !== undefined && newestSource <= builtAt) return;
  say(builtAt === undefined ? 'no build yet' : 'sources changed since the last build');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) fail(`${rel(tsc)} is missing: run npm ci`);
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], 'compiling TypeScript');
  for (const top of ['src', 'tools', 'test']) pruneOrphans(path.join(dist, top), path.join(root, top));
  // The worker loads this bundle instead of running webpack at every start.
  run(process.execPath, [path.join(dist, 'src', 'worker', 'bundle-main.js')], 'bundling the workflow code');
  // An incremental build with nothing to emit may leave the file's time alone: mark this check done.
  const now = new Date();
  if (fs.existsSync(buildInfo)) fs.utimesSync(buildInfo, now, now);
}

function ensureTemporalCli() {
  const lifecycle = process.env.npm_lifecycle_event;
  // An external server makes the CLI unnecessary: skip a possibly long first build.
  if (lifecycle === 'prestart' && process.env.TEMPORAL_ADDRESS) return;
  if (lifecycle === 'pretest' && process.env.TXFLOW_TEST_TEMPORAL_ADDRESS) return;
  // Prints the CLI's path on stdout: keep it off ours, which may be parsed.
  const cliMain = path.join(root, 'dist', 'tools', 'stack', 'cli-main.js');
  if (!fs.existsSync(cliMain)) fail(`${rel(cliMain)} is missing after the build`);
  const result = spawnSync(process.execPath, [cliMain], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
    encoding: 'utf8',
  });
  if (result.error) fail(`obtaining the Temporal CLI: ${result.error.message}`);
  if (result.status !== 0) fail('could not obtain the Temporal CLI (see the message above)');
  say(`Temporal CLI: ${result.stdout.trim()}`);
}

try {
  ensureDependencies();
  ensureBuild();
  ensureTemporalCli();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
