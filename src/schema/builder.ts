import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateResolver, DateTimeResolver } from 'graphql-scalars';
import type { Context, ViewerContext } from '../context.js';
import { badInput, unauthenticated } from './errors.js';
import { decodeNodeId } from './global-id.js';
import { COMPLEXITY_LIMIT, complexityError, fieldComplexity } from './complexity.js';
import { MAX_PAGE_SIZE } from '../reads/connections.js';

export type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { loggedIn: boolean };
  AuthContexts: { loggedIn: ViewerContext };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** YYYY-MM-DD both ways: a calendar day has no zone, so no Date object (which has one) carries it. */
    Date: { Input: string; Output: string };
    ID: { Input: string; Output: string };
  };
}>({
  plugins: [ScopeAuthPlugin, ComplexityPlugin, RelayPlugin],
  complexity: { fieldComplexity, limit: COMPLEXITY_LIMIT, complexityError },
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ loggedIn: context.viewer !== null }),
    unauthorizedError: () => unauthenticated(),
    authorizeOnSubscribe: true,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: {
      description: "Any object by its global ID; null when it does not exist or is not the viewer's.",
      args: { id: { description: 'A global ID.' } },
    },
    nodesQueryOptions: {
      description: "Objects by their global IDs, in order; null for each that does not exist or is not the viewer's.",
      args: { ids: { description: `Global IDs (at most ${MAX_PAGE_SIZE}).` } },
      resolve: (_root, args, _context, _info, resolveNodes) => {
        if (args.ids.length > MAX_PAGE_SIZE) throw badInput([{ path: 'ids', message: `at most ${MAX_PAGE_SIZE} IDs` }]);
        return resolveNodes(args.ids);
      },
    },
    // node/nodes take any string: one that is not an ID of ours is simply not found (null).
    decodeGlobalID: (globalID) => decodeNodeId(globalID),
    idFieldOptions: { description: 'Global ID (opaque).' },
    cursorFieldOptions: { description: 'Opaque position of this edge, for after/before.' },
    nodeFieldOptions: { description: 'The object at this edge.' },
    edgesFieldOptions: { description: 'The page of results.' },
    pageInfoFieldOptions: { description: 'Where this page sits.' },
    hasNextPageFieldOptions: { description: 'Whether more results follow (when paging forward with first).' },
    hasPreviousPageFieldOptions: { description: 'Whether results precede (when paging backward with last).' },
    startCursorFieldOptions: { description: 'Cursor of the first edge of the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last edge of the page.' },
    firstArgOptions: { description: 'Page size from the start or after the cursor (default 20, at most 100).' },
    afterArgOptions: { description: 'Cursor to page forward from.' },
    lastArgOptions: { description: 'Page size from the end or before the cursor (at most 100).' },
    beforeArgOptions: { description: 'Cursor to page backward from.' },
    nodeTypeOptions: { description: 'An object with a global ID (Relay object identification).' },
    pageInfoTypeOptions: { description: 'Where a page sits in its connection (Relay cursor connections).' },
  },
});

// graphql-scalars accepts any instant JavaScript can hold; PostgreSQL stores none before year 1 (it
// has no year 0) and the ISO format none after 9999. Refused here, such a date is the client's error
// (BAD_USER_INPUT) instead of a statement the database rejects (INTERNAL_SERVER_ERROR).
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

function storable(date: Date): Date {
  const time = date.getTime();
  if (!(time >= EARLIEST && time <= LATEST)) throw new GraphQLError('DateTime must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z');
  return date;
}

const StorableDateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => storable(DateTimeResolver.parseLiteral(ast, variables)),
});

builder.addScalarType('DateTime', StorableDateTime, {
  description: 'An instant, as an ISO 8601 string with an offset (e.g. 2026-03-29T09:00:00.000Z), between years 1 and 9999.',
});

// A calendar day travels as its YYYY-MM-DD text; graphql-scalars checks the shape and that the day exists.
const CalendarDate = new GraphQLScalarType({
  ...DateResolver.toConfig(),
  serialize: (value) => (typeof value === 'string' ? value : DateResolver.serialize(value)),
  parseValue: (value) => storable(DateResolver.parseValue(value)).toISOString().slice(0, 10),
  parseLiteral: (ast, variables) => storable(DateResolver.parseLiteral(ast, variables)).toISOString().slice(0, 10),
});

builder.addScalarType('Date', CalendarDate, {
  description: 'A calendar day with no time and no zone, as YYYY-MM-DD (e.g. 2026-03-29), between years 1 and 9999.',
});
