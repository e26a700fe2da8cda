import type { PrismaClient } from '../db/prisma.js';
import { unauthenticated } from '../schema/errors.js';
import { InvalidTokenError, type Tokens, type VerifiedToken } from './tokens.js';

export interface Viewer {
  id: string;
}

const MAX_REMEMBERED_SUBJECTS = 10_000;

/**
 * Turns the Authorization header into the viewer. No header: anonymous (null). Anything else that does
 * not verify is UNAUTHENTICATED, never silently anonymous.
 */
export function createViewerResolver(tokens: Tokens, prisma: PrismaClient) {
  // External subjects map to user ids forever, so the mapping can be remembered per process.
  const externalUsers = new Map<string, string>();

  async function provision(token: Extract<VerifiedToken, { kind: 'external' }>): Promise<string> {
    const known = externalUsers.get(token.externalId);
    if (known) return known;
    const user = await prisma.user.upsert({
      where: { externalId: token.externalId },
      update: {},
      create: { externalId: token.externalId, name: token.name, email: await unclaimedEmail(token.email) },
      select: { id: true },
    });
    if (externalUsers.size >= MAX_REMEMBERED_SUBJECTS) externalUsers.clear();
    externalUsers.set(token.externalId, user.id);
    return user.id;
  }

  // An email already owned by a password account stays with it: the external user gets none.
  async function unclaimedEmail(email: string | undefined): Promise<string | null> {
    if (!email) return null;
    const owner = await prisma.user.findUnique({ where: { email }, select: { id: true } });
    return owner ? null : email;
  }

  return async function viewerFromRequest(request: Request): Promise<Viewer | null> {
    const header = request.headers.get('authorization');
    if (header === null) return null;
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header.trim());
    if (!match?.[1]) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>"');
    let token: VerifiedToken;
    try {
      token = await tokens.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthenticated(`Invalid token: ${error.message}`);
      throw error;
    }
    return { id: token.kind === 'local' ? token.userId : await provision(token) };
  };
}
