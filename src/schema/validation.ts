import type { z } from 'zod';
import { badInput } from './errors.js';

/** Parses a GraphQL input with zod; every problem becomes one BAD_USER_INPUT field, nothing is written. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, root = 'input'): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badInput(
    result.error.issues.map((issue) => ({
      path: [root, ...issue.path].join('.'),
      message: issue.message,
    })),
  );
}
