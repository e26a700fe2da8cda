import { pino, type Logger } from 'pino';

export type { Logger };

// Secrets never reach the log, whatever object a caller passes: these paths are censored by pino.
export const REDACTED_PATHS = [
  'password',
  'passwordHash',
  'token',
  'authorization',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'variables.input.password',
  'variables.password',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
