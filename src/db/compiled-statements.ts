import type pg from 'pg';
import type { Task } from '../generated/prisma/client.js';
import type { SqlStatement } from '../tasks/task-sql.js';
import { statementNames } from './statement-names.js';

/**
 * Runs compiled task statements (src/tasks/task-sql.ts, completeTask's claim) on the pool under
 * Prisma. A row holds the columns its selection asked for, typed as a whole Task the way
 * plugin-prisma types Prisma's own answer.
 */
export type StatementRunner = (statement: SqlStatement) => Promise<Task[]>;

/** Compiled statements for one viewer: the id they are compiled for, and where they run. */
export interface ViewerStatements {
  viewerId: string;
  run: StatementRunner;
}

/**
 * Named statements when prepared statements are on, as Prisma's are (src/db/prisma.ts): a list's
 * statement is planned once per connection, unless it asks not to be (SqlStatement.prepare).
 * node-postgres already gives timestamptz columns as Dates; only timestamps inside the tags' JSON
 * arrive as text.
 */
export function createStatementRunner(pool: pg.Pool, preparedStatements: boolean): StatementRunner {
  const nameOf = preparedStatements ? statementNames(500, 'tasks') : () => '';
  return async ({ text, values, tagDates, prepare = true }) => {
    const name = prepare ? nameOf({ sql: text }) : '';
    const { rows } = await pool.query<Task & { taskTags?: { tag: Record<string, unknown> }[] }>(name ? { name, text, values } : { text, values });
    if (tagDates.length > 0) {
      for (const row of rows) {
        for (const { tag } of row.taskTags ?? []) {
          for (const key of tagDates) if (typeof tag[key] === 'string') tag[key] = new Date(tag[key]);
        }
      }
    }
    return rows;
  };
}
