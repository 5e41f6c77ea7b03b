import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TroveError } from '../errors.js';

/** A PostgreSQL server private to this process. */
export interface ThrowawayPostgres {
  /** Admin URL (role postgres with THROWAWAY_PASSWORD, database postgres). */
  url: string;
  /** Directory holding the data directory and the socket; removed on exit. */
  dir: string;
}

/** Password of the throwaway server's postgres role (TCP logins use scram-sha-256). */
export const THROWAWAY_PASSWORD = 'trove-test';

let started: Promise<ThrowawayPostgres> | undefined;

/**
 * Starts one PostgreSQL for this process (later calls share it): initdb into
 * a temporary directory, tuned for throwaway data (no fsync), listening on a
 * free port of 127.0.0.1. A detached watchdog stops it and removes the
 * directory once this process is gone, however it ends.
 */
export function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  started ??= start();
  return started;
}

async function start(): Promise<ThrowawayPostgres> {
  const bin = findBinDir();
  const owner = unprivilegedOwner();
  const dir = await mkdtemp(join(tmpdir(), 'trove-pg-'));
  // initdb and postgres refuse to run as root; the directory must be theirs.
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  // TCP logins need the password, so tests can see a real authentication failure.
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${THROWAWAY_PASSWORD}\n`);
  if (owner) await chown(pwfile, owner.uid, owner.gid);
  const init = [
    '-D',
    data,
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    '--no-locale',
    '-E',
    'UTF8',
  ].concat(['--auth-local=trust', '--auth-host=scram-sha-256', '-N']);
  try {
    execFileSync(join(bin, 'initdb'), init, { ...ids, cwd: dir, stdio: 'pipe' });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    throw new TroveError('unavailable', `initdb failed: ${stderr.trim() || String(err)}`);
  } finally {
    await rm(pwfile, { force: true });
  }
  const port = await freePort();
  const child = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1']
      .concat(['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'])
      .concat(['-c', 'max_connections=200']),
    { ...ids, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  watchdog(child, dir);
  process.once('exit', () => child.kill('SIGINT'));
  const url = `postgres://postgres:${THROWAWAY_PASSWORD}@127.0.0.1:${port}/postgres`;
  await waitReady(url, child, () => log);
  // The server must not keep its user alive (a bench or script that is done
  // would hang): the exit hook and the watchdog stop it.
  child.unref();
  (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
  return { url, dir };
}

/** Whether this machine can start a throwaway server (initdb and postgres found). */
export function hasPostgresBinaries(): boolean {
  try {
    findBinDir();
    return true;
  } catch {
    return false;
  }
}

/** initdb's directory: PATH, then `pg_config --bindir`, then Debian's layout. */
export function findBinDir(): string {
  const hasBoth = (d: string) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres'));
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && hasBoth(d)) return realDir(d);
  }
  try {
    const d = execFileSync('pg_config', ['--bindir'], { stdio: 'pipe' }).toString().trim();
    if (hasBoth(d)) return d;
  } catch {
    // No pg_config: try the fixed locations.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).sort((a, b) => Number(b) - Number(a) || b.localeCompare(a))
    : [];
  for (const v of versions) if (hasBoth(join(root, v, 'bin'))) return join(root, v, 'bin');
  throw new TroveError(
    'invalid_config',
    'PostgreSQL tests need a server: install PostgreSQL (initdb and postgres on PATH or under /usr/lib/postgresql/*/bin) or set TROVE_TEST_DATABASE_URL to an admin URL such as postgres://postgres@127.0.0.1:5432/postgres',
  );
}

// A symlinked initdb (/usr/local/bin -> /usr/lib/postgresql/15/bin) must run
// from its real directory, where the matching postgres binary lives.
function realDir(d: string): string {
  return dirname(realpathSync(join(d, 'initdb')));
}

/** When running as root: the postgres user if there is one, else nobody. */
function unprivilegedOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const fields = users.find((line) => line.startsWith(`${name}:`))?.split(':');
    if (fields?.[2] && fields[3]) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new TroveError(
    'unavailable',
    'running as root and no postgres or nobody user to run initdb as',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Detached shell that outlives us: waits for this process to end, stops the server, cleans up. */
function watchdog(child: ChildProcess, dir: string): void {
  const script = `while [ -d /proc/$1 ]; do sleep 0.2; done
    kill -INT $2 2>/dev/null
    i=0; while [ -d /proc/$2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    rm -rf "$3"`;
  const args = ['-c', script, 'sh', String(process.pid), String(child.pid), dir];
  spawn('sh', args, { detached: true, stdio: 'ignore' }).unref();
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new TroveError('unavailable', `throwaway postgres exited: ${log().trim()}`);
    }
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        throw new TroveError('unavailable', `throwaway postgres did not start: ${log().trim()}`);
      }
      await sleep(100);
    }
  }
}
