import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

// The browser tests drive Debian's `chromium` package. It is installed here when it is missing and
// this process may install it (root with apt-get); otherwise those tests skip, saying why.

export const CHROMIUM_PATH = '/usr/bin/chromium';
const INSTALL_HINT = 'install it with `sudo apt-get install chromium` (Debian/Ubuntu) and run the tests again';
// A download of ~100 MB from a slow mirror fits in this; a hung apt-get does not stall the run forever.
const APT_TIMEOUT_MS = 10 * 60_000;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the browser tests skip, or null when CHROMIUM_PATH is installed. */
    chromiumSkipReason: string | null;
  }
}

function apt(args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=120', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: APT_TIMEOUT_MS,
    });
    let output = '';
    const forward = (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', (error) => resolve({ ok: false, output: output + String(error) }));
    child.on('close', (code, signal) => resolve({ ok: code === 0, output: signal ? `${output}\napt-get ${args[0]} stopped (${signal}) after ${APT_TIMEOUT_MS / 1000} s` : output }));
  });
}

function lastLine(output: string): string {
  return output.trim().split('\n').at(-1) ?? '';
}

async function ensureChromium(): Promise<string | null> {
  if (existsSync(CHROMIUM_PATH)) return null;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) return `${CHROMIUM_PATH} is missing and this run cannot install it (needs root and apt-get): ${INSTALL_HINT}`;

  const started = Date.now();
  console.info(`browser tests: ${CHROMIUM_PATH} is missing; installing Debian's chromium package with apt-get...`);
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  let result = await apt(install);
  // Package lists absent (a fresh image) or stale (the mirror no longer has the listed version).
  if (!result.ok && /Unable to locate package|no installation candidate|404\s+Not Found|apt-get update/i.test(result.output)) {
    console.info('browser tests: package lists missing or stale; running apt-get update first...');
    const update = await apt(['update']);
    if (update.ok) result = await apt(install);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  if (result.ok && existsSync(CHROMIUM_PATH)) {
    console.info(`browser tests: chromium installed in ${seconds} s`);
    return null;
  }
  return `installing chromium with apt-get failed after ${seconds} s (${lastLine(result.output)}): ${INSTALL_HINT}`;
}

export default async function setup(project: TestProject) {
  const reason = await ensureChromium();
  if (reason) console.warn(`browser tests skipped: ${reason}`);
  project.provide('chromiumSkipReason', reason);
}
