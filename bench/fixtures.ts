// What the load generator needs to know about the seeded data without asking the database.
// Every derivation here is mirrored in SQL by bench/seed.ts (see uuidSql there); change both or neither.
import { createHash } from 'node:crypto';

export const BENCH_PASSWORD = 'bench-password';
export const BENCH_EMAIL_PATTERN = 'bench-user-%@example.com';
/** Tag k of every bench user (k = 0..4), with the colour the seed gives it. */
export const BENCH_TAGS = [
  { name: 'work', color: '#1f77b4' },
  { name: 'home', color: '#2ca02c' },
  { name: 'errands', color: '#ff7f0e' },
  { name: 'health', color: '#d62728' },
  { name: 'someday', color: '#9467bd' },
] as const;
/** Words the seeded titles are made of; each occurs in roughly 1/16 of the titles. */
export const BENCH_SEARCH_WORDS = ['invoice', 'report', 'dentist', 'groceries', 'taxes', 'flight'] as const;

/**
 * md5 of a key, shaped as an RFC 9562 UUID: version nibble 4 and variant nibble 8 are fixed
 * because strict validators (zod's z.uuid(), z.uuidv4()) reject arbitrary hex; 120 bits stay.
 */
export function benchUuid(key: string): string {
  const hex = createHash('md5').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Bench users are numbered from 1. */
export function benchUserId(n: number): string {
  return benchUuid(`bench-user-${n}`);
}

export function benchUserEmail(n: number): string {
  return `bench-user-${n}@example.com`;
}

/** Tag k (0..4, an index into BENCH_TAGS) of user n. */
export function benchTagId(n: number, k: number): string {
  return benchUuid(`bench-tag-${n}-${k}`);
}

/** Seeded task i (1..tasksPerUser) of user n; tasks the API creates later have random ids. */
export function benchTaskId(n: number, i: number): string {
  return benchUuid(`bench-task-${n}-${i}`);
}
