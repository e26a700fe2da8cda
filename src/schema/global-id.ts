import { decodeGlobalID } from '@pothos/plugin-relay';
import { badInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The database id inside a Relay global ID of `typename`; BAD_USER_INPUT (at `path`) for anything else. */
export function decodeId(globalId: string, typename: 'Task' | 'Tag' | 'User' | 'List' | 'Reminder' | 'Webhook', path: string): string {
  try {
    const decoded = decodeGlobalID(globalId);
    if (decoded.typename === typename && UUID.test(decoded.id)) return decoded.id.toLowerCase();
  } catch {
    // fall through: not base64 or no typename
  }
  throw badInput([{ path, message: `not a ${typename} ID` }]);
}

/** An optional ID argument: absent or null stay absent; anything else, the empty string too, must be a valid ID. */
export function decodeOptionalId(globalId: string | null | undefined, typename: 'Task' | 'Tag' | 'List', path: string): string | undefined {
  return globalId == null ? undefined : decodeId(globalId, typename, path);
}

export function decodeIds(globalIds: readonly string[], typename: 'Task' | 'Tag' | 'List', path: string): string[] {
  return [...new Set(globalIds.map((id, index) => decodeId(id, typename, `${path}.${index}`)))];
}

const NODE_TYPES = new Set(['Task', 'Tag', 'User', 'List', 'Reminder', 'Webhook']);
const NOBODY = { typename: 'Task', id: '00000000-0000-0000-0000-000000000000' };

/** For node/nodes: our IDs decode as they are; anything else decodes to an ID that matches no row. */
export function decodeNodeId(globalId: string): { typename: string; id: string } {
  try {
    const decoded = decodeGlobalID(globalId);
    if (NODE_TYPES.has(decoded.typename) && UUID.test(decoded.id)) return { typename: decoded.typename, id: decoded.id.toLowerCase() };
  } catch {
    // not base64, or no typename: not one of ours
  }
  return NOBODY;
}
