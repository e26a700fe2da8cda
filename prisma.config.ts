import { defineConfig } from 'prisma/config';

// Used by `prisma generate` (and by `prisma migrate` on machines that have Prisma's native engine).
// This project applies migrations itself with the WASM schema engine: see src/db/migrations.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/tasks' },
});
