import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger, on stderr so that stdout stays clean for command output: JSON lines when
 * stderr is piped or TASA_LOG_FORMAT=json, one readable line per entry on a terminal (or with
 * TASA_LOG_FORMAT=pretty).
 */
export function createLogger(level = 'info', format = process.env['TASA_LOG_FORMAT']): Logger {
  const pretty = format === 'pretty' || (format !== 'json' && process.stderr.isTTY === true);
  return pino({ level, base: { app: 'tasa' } }, pretty ? { write: (line: string) => process.stderr.write(`${readableLine(line)}\n`) } : pino.destination(2));
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A pino JSON line as `HH:MM:SS level message key=value ...` (the time is the real, wall-clock time of the entry). */
export function readableLine(json: string): string {
  const entry = JSON.parse(json) as Record<string, unknown>;
  const { level, time, msg, app: _app, pid: _pid, hostname: _host, ...rest } = entry;
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) + 'Z' : '';
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [at, LEVEL_NAMES[Number(level)] ?? String(level), typeof msg === 'string' ? msg : '', ...fields].filter((s) => s !== '').join(' ');
}
