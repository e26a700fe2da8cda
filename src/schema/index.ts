import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './task.js';
import './tag.js';
import './user.js';
import './list.js';
import './auth.js';
import './reminder.js';
import './quick-add.js';
import './sync.js';
import './trash.js';
import './calendar.js';
import './webhook.js';

export const schema = builder.toSchema({ sortSchema: true });

/** The SDL committed as schema.graphql. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
