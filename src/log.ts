import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: JSON lines on stderr, so that stdout stays clean for command output. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { app: 'tasa' } }, pino.destination(2));
}
