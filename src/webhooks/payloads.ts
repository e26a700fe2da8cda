import { encodeGlobalID } from '@pothos/plugin-relay';
import { execute, parse, type GraphQLSchema } from 'graphql';
import type { Context, ViewerContext } from '../context.js';
import type { Reads } from '../reads/index.js';

// What a delivery's `data` holds: the object as its owner reads it through the API (the read
// compiler, as the owner), so a field reads the same in a webhook as in a query. Read when the
// delivery is first attempted; an object deleted by then (and every *.deleted event) is `{ id }`.

const OBJECTS = parse(/* GraphQL */ `
  query WebhookObjects($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      ... on Task {
        id
        title
        description
        completed
        completedAt
        priority
        dueAt
        dueDate
        recurrence
        position
        createdAt
        updatedAt
        version
        list { id }
        parent { id }
        tags { id name }
      }
      ... on List { id name color isInbox archived position createdAt }
      ... on Tag { id name color createdAt }
    }
  }
`);

export interface ObjectRef {
  typename: string;
  objectId: string;
  event: string;
}

/** Reads the objects of a batch of one owner's deliveries; answers each delivery's `data`. */
export type PayloadReader = (ownerId: string, objects: readonly ObjectRef[]) => Promise<(object: ObjectRef) => unknown>;

export const globalIdOf = (object: Pick<ObjectRef, 'typename' | 'objectId'>) => encodeGlobalID(object.typename, object.objectId);

const isDeletion = (object: ObjectRef) => object.event.endsWith('.deleted');

export function createPayloadReader(schema: GraphQLSchema, reads: Reads): PayloadReader {
  return async (ownerId, objects) => {
    const ids = [...new Set(objects.filter((object) => !isDeletion(object)).map(globalIdOf))];
    const found = new Map<string, unknown>();
    const dataOf = (object: ObjectRef) => (isDeletion(object) ? undefined : found.get(globalIdOf(object))) ?? { id: globalIdOf(object) };
    if (ids.length === 0) return dataOf;
    // Only the owner's reads run: no request, no writes (db is never touched by these fields).
    const context = { viewer: { id: ownerId }, services: { reads }, requestId: 'webhook', logger: undefined } as unknown as ViewerContext & Context;
    const result = await execute({ schema, document: OBJECTS, variableValues: { ids }, contextValue: context });
    if (result.errors?.length) throw new Error(`reading webhook payloads failed: ${result.errors.map((error) => error.message).join('; ')}`);
    for (const node of (result.data?.nodes ?? []) as ({ id: string; __typename: string } | null)[]) {
      if (!node) continue;
      const { __typename: _typename, ...fields } = node;
      found.set(node.id, fields);
    }
    return dataOf;
  };
}
