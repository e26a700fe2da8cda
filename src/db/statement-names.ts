import { createHash } from 'node:crypto';

/**
 * Names for SQL texts (Prisma's, and the compiled task statements'), so that node-postgres prepares
 * each distinct statement once per connection and PostgreSQL keeps its plan: planning Prisma's
 * relation-joining SELECTs costs more than running them, and the database may share the machine with
 * the server (docs/performance.md).
 * A name is a hash of the text: node-postgres refuses one name for two texts. Past `capacity` distinct
 * texts, new ones go unnamed (the empty name, the protocol's own for an unnamed statement), which
 * bounds the statements each connection keeps on the server.
 */
export function statementNames(capacity = 500, prefix = 'prisma'): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < capacity) {
      name = `${prefix}_${createHash('sha256').update(sql).digest('base64url').slice(0, 32)}`;
      names.set(sql, name);
    }
    return name ?? '';
  };
}
