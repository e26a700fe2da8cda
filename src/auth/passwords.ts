import { hash, verify } from '@node-rs/argon2';

// argon2id with OWASP's second recommended profile (19 MiB, 2 passes): safe, and cheap enough that
// a sign-in burst does not starve the event loop (the work runs on libuv's thread pool).
// algorithm 2 is Argon2id (the package exports it as a const enum, which isolatedModules cannot inline).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

// Verifying against a real hash even for an unknown email keeps both answers equally slow,
// so response time does not reveal which emails have accounts.
let decoy: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy password that matches nothing');
  const target = passwordHash ?? (await decoy);
  const matches = await verify(target, password).catch(() => false);
  return matches && passwordHash != null;
}
