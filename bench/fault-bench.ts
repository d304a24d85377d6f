/**
 * Ticks lost per fault: the figure of the fault suite (`npm run test:faults`), which runs whole
 * simulated sessions with one fault each against private servers and writes its table to
 * artifacts/fault-table.json. The suite takes minutes, so the bench reads a table written in the
 * last day and runs the suite only when there is none (BENCH_FAULTS=run forces a fresh run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FAULT_TABLE_PATH, type FaultRow } from '../test/faults/support/fault-table.ts';
import { record } from './harness.ts';

const FRESH_MS = 24 * 60 * 60 * 1000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function benchFaults(): void {
  const ran = ensureTable();
  if (!existsSync(FAULT_TABLE_PATH)) {
    record('faults', 'ticks lost per fault', 'n/a', 'the fault suite wrote no table (initdb and redis-server on PATH?)');
    return;
  }
  const { rows } = JSON.parse(readFileSync(FAULT_TABLE_PATH, 'utf8')) as { rows: FaultRow[] };
  const when = statSync(FAULT_TABLE_PATH).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const source = ran ? 'this run' : `suite run of ${when} UTC`;
  const audited = rows.filter((r) => r.ticksLost !== null);
  const worst = Math.max(0, ...audited.map((r) => r.ticksLost ?? 0));
  const delivered = audited.reduce((n, r) => n + (r.ticksDelivered ?? 0), 0);
  const lost = audited.reduce((n, r) => n + (r.ticksLost ?? 0), 0);
  const survived = rows.filter((r) => r.survived).length;
  const broken = rows.length - audited.length;
  const brokenNote = broken > 0 ? `; ${broken} broke off before the audit` : '';
  record('faults', 'ticks lost per fault (worst fault)', String(worst), `${lost} of ${delivered} delivered ticks lost over ${audited.length} audited faults${brokenNote}; ${survived} of ${rows.length} faults survived; ${source}`);
  for (const r of rows) {
    const inFlight = (r.ticksInFlightAtKill ?? 0) > 0 ? `, ${r.ticksInFlightAtKill} in flight at the kill` : '';
    const outcome = r.survived ? 'survived' : `FAILED: ${r.failures.join('; ')}`;
    record('faults', `ticks lost: ${r.fault}`, r.ticksLost === null ? 'n/a' : String(r.ticksLost), `of ${r.ticksDelivered ?? '?'}${inFlight}; ${r.barsRepaired ?? '?'} bars repaired; ${outcome}`);
  }
}

/** True when this call ran the suite. A failing suite still writes its table, so its exit code is not fatal here. */
function ensureTable(): boolean {
  const fresh = existsSync(FAULT_TABLE_PATH) && Date.now() - statSync(FAULT_TABLE_PATH).mtimeMs < FRESH_MS;
  if (fresh && process.env['BENCH_FAULTS'] !== 'run') return false;
  process.stderr.write('  faults · running the fault suite (several minutes)\n');
  spawnSync(process.execPath, ['scripts/run-faults.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}
