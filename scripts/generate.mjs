// Generates the Prisma client and the Kysely table types (src/generated/), which are not committed.
// `prisma generate` needs no schema engine, but the CLI looks for one at start-up and would try to
// download it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any executable keeps it offline.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const outputs = ['src/generated/prisma/client.ts', 'src/generated/kysely/types.ts'];
const inputs = ['prisma/schema.prisma', 'package-lock.json'];
const newest = Math.max(...inputs.map((file) => statSync(file).mtimeMs));
const upToDate = outputs.every((file) => existsSync(file) && statSync(file).mtimeMs >= newest);

if (!upToDate || process.argv.includes('--force')) {
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}
