import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_JWT_SECRET } from './app.js';

// The real process (src/main.ts), as `npm start` runs it, on a test database.

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = /ready at (http:\/\/\S+)\/graphql/;
  for (let waited = 0; waited < 60_000 && !ready.test(output) && child.exitCode === null; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const match = ready.exec(output);
  if (!match) {
    child.kill('SIGKILL');
    throw new Error(`server did not start:\n${output}`);
  }
  return { child, baseUrl: match[1]!.replace('localhost', '127.0.0.1'), output: () => output };
}
