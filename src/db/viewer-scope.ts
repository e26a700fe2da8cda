import type { PrismaClient } from './prisma.js';

// The one place where the viewer's id enters every Task, Tag, TaskTag and List query and write. Resolvers
// receive a client scoped with this extension (ctx.db) and never type a user id themselves; Pothos'
// prisma plugin uses the same client for node/nodes lookups and relation loading.

type Owner = Record<string, string>;
type Args = Record<string, unknown> & { where?: object; data?: unknown; create?: object; cursor?: unknown };

/**
 * Adds the owner condition to a where, so a lookup by another user's id matches nothing. A where
 * without the owner's column simply gains it (an equality, which Prisma's query plan cache
 * parameterises; an AND list costs ~200 us of CPU more per query, measured with bench:layers); one
 * that names the column itself keeps its condition and gets the owner ANDed on, never merged over it.
 */
function ownedWhere(where: object | undefined, owner: Owner): object {
  const [[column, value]] = Object.entries(owner) as [[string, string]];
  const current = (where as Record<string, unknown> | undefined)?.[column];
  if (current === undefined) return { ...where, [column]: value };
  if (current === value) return where!;
  const existing = (where as { AND?: unknown }).AND;
  const and = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  return { ...where, AND: [...and, owner] };
}

function withOwner(operation: string, args: Args, owner: Owner): Args {
  switch (operation) {
    case 'create':
      return { ...args, data: { ...(args.data as object), ...owner } };
    case 'createMany':
    case 'createManyAndReturn': {
      const rows = Array.isArray(args.data) ? args.data : [args.data];
      return { ...args, data: rows.map((row: object) => ({ ...row, ...owner })) };
    }
    case 'upsert':
      return { ...args, where: ownedWhere(args.where, owner), create: { ...args.create, ...owner } };
    default: {
      // find*, count, aggregate, groupBy, update*, delete*: the owner condition is ANDed on, never
      // merged over the caller's keys (for users the key *is* the owner column). A pagination cursor
      // is a lookup too: another user's row must not serve as a position in the viewer's list.
      const scoped: Args = { ...args, where: ownedWhere(args.where, owner) };
      // (Prisma's cursor takes unique fields only, no AND; the owner column is one of them.)
      if (args.cursor) scoped.cursor = { ...(args.cursor as object), ...owner };
      return scoped;
    }
  }
}

/** A task operation that reads or changes rows sees only those not in the trash. */
function live(operation: string, args: Args): Args {
  if (operation.startsWith('create')) return args;
  return { ...args, where: { ...args.where, deletedAt: null } };
}

export function scopeToViewer(prisma: PrismaClient, viewerId: string) {
  const owned = { userId: viewerId };
  return prisma.$extends({
    name: 'viewer-scope',
    query: {
      // The viewer's tasks are the live ones, as in the read compiler's scope (src/reads/viewer-scope.ts).
      task: { $allOperations: ({ operation, args, query }) => query(live(operation, withOwner(operation, args as Args, owned)) as typeof args) },
      tag: { $allOperations: ({ operation, args, query }) => query(withOwner(operation, args as Args, owned) as typeof args) },
      taskTag: { $allOperations: ({ operation, args, query }) => query(withOwner(operation, args as Args, owned) as typeof args) },
      list: { $allOperations: ({ operation, args, query }) => query(withOwner(operation, args as Args, owned) as typeof args) },
      reminder: { $allOperations: ({ operation, args, query }) => query(withOwner(operation, args as Args, owned) as typeof args) },
      user: {
        $allOperations: ({ operation, args, query }) => {
          if (operation.startsWith('create') || operation === 'upsert') throw new Error('users are created by signUp, not through a viewer');
          return query(withOwner(operation, args as Args, { id: viewerId }) as typeof args);
        },
      },
    },
  });
}

export type ViewerDb = ReturnType<typeof scopeToViewer>;

/**
 * For `create` data: Prisma's types require an owner, and the scope extension sets the real one.
 * Spreading this says so at the call site instead of passing a user id the resolver would have to trust.
 */
export const ownedByViewer = { userId: '00000000-0000-0000-0000-000000000000' } as const;

/**
 * Scoped clients, remembered per viewer: building a Prisma extension is costly enough to show in a
 * CPU profile when done on every request, and a viewer's scope never changes.
 */
export function scopedClients(prisma: PrismaClient, capacity = 5_000): (viewerId: string) => ViewerDb {
  const clients = new Map<string, ViewerDb>();
  return (viewerId) => {
    let client = clients.get(viewerId);
    if (client) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      clients.delete(viewerId);
    } else {
      client = scopeToViewer(prisma, viewerId);
      if (clients.size >= capacity) clients.delete(clients.keys().next().value!);
    }
    clients.set(viewerId, client);
    return client;
  };
}
