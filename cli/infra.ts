// `./fluxiq up` and `./fluxiq test` make sure Postgres, Redis and NATS (with JetStream) are running on
// this machine: start them if stopped, install the Debian packages if absent. Only loopback endpoints
// are managed; a remote DATABASE_URL/REDIS_URL/NATS_URL is only checked.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Config } from '../shared/config.ts';

/** How long a service may take to accept connections after we start it. */
export const INFRA_START_MS_MAX = 30_000;
const PROBE_MS_MAX = 500;

export class InfraError extends Error {
  override name = 'InfraError';
}

interface Endpoint {
  name: 'postgres' | 'redis' | 'nats';
  host: string;
  port: number;
}

function endpointOf(name: Endpoint['name'], url: string, defaultPort: number): Endpoint {
  const u = new URL(url);
  return { name, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : defaultPort };
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

export function probe(host: string, port: number, timeoutMs = PROBE_MS_MAX): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitUp(ep: Endpoint): Promise<void> {
  const deadline = Date.now() + INFRA_START_MS_MAX;
  while (Date.now() < deadline) {
    if (await probe(ep.host, ep.port)) return;
    await Bun.sleep(200);
  }
  throw new InfraError(`${ep.name} did not start listening on ${ep.host}:${ep.port} within ${INFRA_START_MS_MAX / 1000} s`);
}

function run(cmd: string[], what: string): void {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (p.exitCode !== 0) {
    const tail = (p.stderr.toString() || p.stdout.toString()).trim().split('\n').slice(-2).join(' ');
    throw new InfraError(`${what} failed (${cmd.join(' ')}): ${tail}`);
  }
}

function spawnDetached(bin: string, args: string[]): void {
  spawn(bin, args, { detached: true, stdio: 'ignore' }).unref();
}

const which = (bin: string): boolean => Bun.which(bin, { PATH: `${process.env.PATH}:/usr/sbin:/sbin:/usr/lib/postgresql/15/bin` }) !== null;

let aptUpdated = false;
function aptInstall(pkg: string, log: (m: string) => void): void {
  if (process.getuid?.() !== 0) throw new InfraError(`${pkg} is not installed: run 'sudo apt-get install -y ${pkg}' and try again`);
  if (!which('apt-get')) throw new InfraError(`${pkg} is not installed and apt-get is not available: install ${pkg} and try again`);
  log(`installing Debian package ${pkg} ...`);
  if (!aptUpdated) {
    run(['apt-get', 'update', '-qq'], 'apt-get update');
    aptUpdated = true;
  }
  run(['apt-get', 'install', '-y', '-qq', pkg], `apt-get install ${pkg}`);
}

function postgresVersions(): string[] {
  return existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort() : [];
}

/** A cluster we installed ourselves gets trust on loopback, matching the dev default URL (no password). */
function trustLoopback(version: string): void {
  const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
  if (!existsSync(hba)) return;
  const text = readFileSync(hba, 'utf8');
  if (text.includes('# fluxiq dev: trust loopback')) return;
  writeFileSync(hba, `# fluxiq dev: trust loopback\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust\n${text}`);
}

function startPostgres(log: (m: string) => void): void {
  let installed = false;
  if (postgresVersions().length === 0) {
    aptInstall('postgresql', log);
    installed = true;
  }
  const version = postgresVersions().at(-1);
  if (!version) throw new InfraError('postgresql is installed but has no cluster under /etc/postgresql: create one with pg_createcluster');
  if (installed) trustLoopback(version);
  log(`starting PostgreSQL ${version} ...`);
  run(['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'start'], 'starting PostgreSQL');
}

function startRedis(ep: Endpoint, log: (m: string) => void): void {
  if (!which('redis-server')) aptInstall('redis-server', log);
  log('starting Redis ...');
  mkdirSync('/var/lib/redis', { recursive: true });
  mkdirSync('/var/log/redis', { recursive: true });
  run(['redis-server', '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', String(ep.port), '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/fluxiq.log'], 'starting Redis');
}

function startNats(ep: Endpoint, log: (m: string) => void): void {
  if (!which('nats-server')) aptInstall('nats-server', log);
  log('starting NATS with JetStream ...');
  // the Debian service's store for the default port; a store of its own for any other port
  const storeDir = ep.port === 4222 ? '/var/lib/nats-server' : `/var/lib/nats-server-${ep.port}`;
  mkdirSync(storeDir, { recursive: true });
  const bin = Bun.which('nats-server', { PATH: `${process.env.PATH}:/usr/sbin` }) ?? '/usr/sbin/nats-server';
  const args = ['-a', '127.0.0.1', '-p', String(ep.port), '-js', '-sd', storeDir, '-l', `/var/log/nats-server-${ep.port}.log`];
  // detached in its own session with no pipes to us: the server outlives this command
  // (start-stop-daemon --exec would match a nats-server on another port and start nothing)
  spawnDetached(bin, args);
}

/** NATS answers INFO on connect; JetStream must be enabled there (`"jetstream":true`). */
async function natsHasJetStream(ep: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ep.host, port: ep.port });
    let buf = '';
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(PROBE_MS_MAX * 2, () => done(false));
    socket.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(/"jetstream"\s*:\s*true/.test(buf));
    });
    socket.once('error', () => done(false));
  });
}

/** Installs a Debian package when its program is missing (the test suite's xmlsec1, wrk and chromium). */
export function ensureProgram(bin: string, pkg: string, log: (m: string) => void): boolean {
  if (which(bin) || existsSync(`/usr/bin/${bin}`)) return false;
  aptInstall(pkg, log);
  return true;
}

/** Ensures the three dependencies answer; returns what it had to do, for the caller's log. */
export async function ensureInfra(config: Config, log: (m: string) => void): Promise<string[]> {
  const actions: string[] = [];
  const eps = [endpointOf('postgres', config.databaseUrl, 5432), endpointOf('redis', config.redisUrl, 6379), endpointOf('nats', config.natsUrl, 4222)];
  for (const ep of eps) {
    if (await probe(ep.host, ep.port)) continue;
    if (!isLoopback(ep.host)) throw new InfraError(`${ep.name} at ${ep.host}:${ep.port} is not reachable: start it or fix its URL`);
    if (ep.name === 'postgres') startPostgres(log);
    else if (ep.name === 'redis') startRedis(ep, log);
    else startNats(ep, log);
    await waitUp(ep);
    actions.push(`started ${ep.name}`);
  }
  const nats = eps[2]!;
  if (!(await natsHasJetStream(nats))) {
    throw new InfraError(`NATS at ${nats.host}:${nats.port} runs without JetStream: restart it with -js (nats-server -js -sd <dir>)`);
  }
  return actions;
}
