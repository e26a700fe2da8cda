import type pg from 'pg';

/** Counts the SQL statements sent through a pg pool (directly or on checked-out clients). */
export function countStatements(pool: pg.Pool) {
  const statements: string[] = [];
  const wrapped = new WeakSet<object>();
  const wrap = (target: { query: (...args: never[]) => unknown }) => {
    if (wrapped.has(target)) return;
    wrapped.add(target);
    const original = target.query.bind(target) as (...args: unknown[]) => unknown;
    target.query = ((...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      statements.push(typeof first === 'string' ? first : (first?.text ?? ''));
      return original(...args);
    }) as never;
  };
  // pool.query() also goes through a checked-out client, so counting on clients counts each statement once.
  pool.on('acquire', (client) => wrap(client as never));
  return {
    /** Statements since the last reset, without transaction bookkeeping (BEGIN/COMMIT). */
    get count() {
      return statements.filter((sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(sql)).length;
    },
    get statements() {
      return [...statements];
    },
    reset() {
      statements.length = 0;
    },
  };
}
