// npm run db:migrate: applies prisma/migrations to DATABASE_URL (or the embedded database).
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { MigrationError, migrate } from '../src/db/migrations.js';

try {
  const config = loadConfig();
  const database = await openDatabase(config.database, (line) => console.error(line));
  try {
    const applied = await migrate(database.url, { log: (line) => console.log(line) });
    console.log(applied.length === 0 ? `${database.description}: already up to date` : `${database.description}: applied ${applied.length} migration(s)`);
  } finally {
    await database.close();
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof MigrationError) {
    console.error(error.message);
  } else {
    console.error(`migration failed: ${(error as Error).message}`);
  }
  process.exit(1);
}
