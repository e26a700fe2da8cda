// Child processes of the benchmark (the API, the floor, the seed) and what /proc says about them.
// Each target runs in its own process so that its CPU time and memory can be read per scenario.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const children = new Set<ChildProcess>();

/** SIGKILLs whatever child is still alive: the last resort when the runner itself exits. */
export function killAllChildrenNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', killAllChildrenNow);

export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in clock ticks; null when it is gone (or not on Linux). */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after ")" start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM (peak since start) in bytes. */
export function memory(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/**
 * CPU ticks per process of one PostgreSQL server: its postmaster and the postmaster's children
 * (backends, background workers). Deltas are taken per pid, because backends come and go.
 */
export function postgresTicks(postmasterPid: number): Map<number, number> {
  const ticks = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return ticks;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pid !== postmasterPid && Number(fields[1]) !== postmasterPid) continue;
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

/** Ticks spent between two postgresTicks() snapshots (processes that exited in between are lost). */
export function postgresTicksBetween(start: Map<number, number>, end: Map<number, number>): number {
  let total = 0;
  for (const [pid, ticks] of end) total += ticks - (start.get(pid) ?? 0);
  return total;
}

/** The postmaster's pid from an embedded server's data directory, or null. */
export function postmasterPid(clusterDir: string): number | null {
  try {
    const pid = Number(readFileSync(`${clusterDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** TCP ports the process listens on, from its socket inodes and /proc/<pid>/net/tcp{,6}. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      // local_address is "HEXIP:HEXPORT"; state 0A is LISTEN; column 9 is the inode.
      if (columns[3] === '0A' && columns[9] && inodes.has(columns[9])) {
        ports.push(parseInt(columns[1]!.split(':')[1]!, 16));
      }
    }
  }
  return ports;
}

export interface Target {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Base URL on a loopback address, e.g. http://127.0.0.1:43121 */
  origin: string;
  /** Last lines of its output, for error messages. */
  tail(): string;
  /** Each kind of line it printed (pino: level, message and error), with how often. */
  outputKinds(): string[];
  /** SQL statements the process sent so far (bench/statement-counter.mjs), or null. */
  statements(): Promise<number | null>;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Whether the script is TypeScript, run through tsx (default); false for compiled JavaScript. */
  tsx?: boolean;
  /** Modules to --import (after tsx): the statement counter. */
  imports?: string[];
  /** A path that answers 200 once the target is ready, e.g. /healthz; otherwise listening is enough. */
  readyPath?: string;
  timeoutMs: number;
  log: (line: string) => void;
}

const READY_LINE = /(?:ready at|listening on) (https?:\/\/[^\s/"]+)/;
const MAX_ECHOED_LINES = 20;

/** A pino line by level, message and error message; other lines with numbers and ids blanked. */
function kindOf(line: string): string {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string }; args?: Array<{ message?: string }> };
    const detail = entry.err?.message ?? entry.args?.[0]?.message;
    return `level ${entry.level ?? '?'}: ${entry.msg ?? ''}${detail ? ` (${detail.slice(0, 160)})` : ''}`;
  } catch {
    return line.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '<id>').replace(/\d+/g, 'N').slice(0, 200);
  }
}

export async function startTarget(options: StartOptions): Promise<Target> {
  const args = [...(options.nodeFlags ?? []), ...(options.tsx === false ? [] : ['--import', 'tsx']), ...(options.imports ?? []).flatMap((m) => ['--import', m]), options.script];
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not spawn ${process.execPath}`);

  const lines: string[] = [];
  // Under load the same warning or error repeats thousands of times: each kind is shown once, counted.
  const kinds = new Map<string, number>();
  let announced: string | undefined;
  const onLine = (line: string) => {
    if (!line.trim()) return;
    lines.push(line);
    if (lines.length > 50) lines.shift();
    const match = READY_LINE.exec(line);
    if (match) {
      announced = match[1];
      return;
    }
    const kind = kindOf(line);
    const seen = kinds.get(kind) ?? 0;
    kinds.set(kind, seen + 1);
    if (seen === 0 && kinds.size <= MAX_ECHOED_LINES) {
      options.log(`[${options.name}] ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
      if (kinds.size === MAX_ECHOED_LINES) options.log(`[${options.name}] (further kinds of output not shown)`);
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
  }
  const tail = () => lines.slice(-15).join('\n');

  let pendingStatements: ((value: number | null) => void)[] = [];
  child.on('message', (message: unknown) => {
    if (message && typeof message === 'object' && 'statements' in message) {
      const waiting = pendingStatements;
      pendingStatements = [];
      for (const resolve of waiting) resolve(Number((message as { statements: unknown }).statements));
    }
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const target: Target = {
    name: options.name,
    child,
    pid,
    origin: '',
    tail,
    outputKinds: () => [...kinds.entries()].map(([kind, count]) => `${count}× ${kind}`),
    statements() {
      if (!child.connected) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 2_000);
        pendingStatements.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
        child.send('bench:statements');
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) {
        options.log(`${options.name} did not stop within 20 s of SIGTERM: killing it`);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };

  const deadline = Date.now() + options.timeoutMs;
  let origin: string | undefined;
  while (!origin) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail()}`);
    }
    if (Date.now() > deadline) {
      await target.stop();
      throw new Error(`${options.name} was not listening after ${options.timeoutMs / 1000} s:\n${tail()}`);
    }
    if (announced) {
      origin = announced.replace('//localhost:', '//127.0.0.1:');
    } else {
      // LOG_LEVEL=warn hides the "ready at" line: find the port it listens on instead.
      try {
        const port = listeningPorts(pid)[0];
        if (port) origin = `http://127.0.0.1:${port}`;
      } catch {
        // /proc not readable yet
      }
    }
    if (!origin) await sleep(100);
  }
  if (options.readyPath) {
    for (;;) {
      const ok = await fetch(`${origin}${options.readyPath}`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        await target.stop();
        throw new Error(`${options.name} listens on ${origin} but ${options.readyPath} never answered 200:\n${tail()}`);
      }
      await sleep(100);
    }
  }
  target.origin = origin;
  return target;
}

/**
 * What `npm start` runs, from package.json: `node [--flags] <script>.js`. The benchmark starts the
 * API the same way (after building it), so that it measures what production runs.
 */
export function productionCommand(root: string): { flags: string[]; script: string } {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const script = words.at(-1) ?? '';
  const flags = words.slice(1, -1);
  if (words[0] !== 'node' || !script.endsWith('.js') || flags.some((flag) => !flag.startsWith('--'))) {
    throw new Error(`package.json's "start" is not of the form "node [--flags] <script>.js", which the benchmark runs as production does: ${start}`);
  }
  return { flags, script };
}

/** npm run build (src/ to dist/), without npm: tsc with tsconfig.build.json. */
export async function buildForProduction(root: string, timeoutMs: number): Promise<void> {
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  await execFileAsync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, timeout: timeoutMs }).catch((error: Error & { stdout?: string }) => {
    throw new Error(`building dist/ failed: ${error.stdout?.trim() || error.message}`);
  });
}

/**
 * Runs a script to completion (the seed), streaming its output; rejects on failure, or when it has
 * printed nothing for `silenceMs` (a seed of millions of tasks runs for an hour on a slow machine, but
 * reports every batch).
 */
export async function runScript(options: { name: string; script: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string; silenceMs: number; log: (line: string) => void }): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const silent = () => {
    options.log(`${options.name} printed nothing for ${Math.round(options.silenceMs / 1000)} s: killing it`);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  };
  let timer = setTimeout(silent, options.silenceMs);
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    let buffered = '';
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) options.log(`[${options.name}] ${line}`);
        clearTimeout(timer);
        timer = setTimeout(silent, options.silenceMs);
      }
    });
  }
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  children.delete(child);
  if (code !== 0) throw new Error(`${options.name} failed (${code})`);
}
