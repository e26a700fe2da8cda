/** A migration that must not or cannot be applied; its message says what to do. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}
