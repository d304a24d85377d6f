/**
 * Where the stored history starts and ends, and what is missing in the period shown, with the
 * command that fills it: `tasa import` for a file of bars, `tasa backfill` from TwelveData.
 */
import type { DataQualityReport } from '../../contracts/api/data-quality.ts';
import type { HistorySpanResponse } from '../../contracts/api/desk.ts';
import { integer } from '../format.ts';
import { sessionDateOf, type SessionRules } from '../market-time.ts';
import { useMarket } from '../selected-symbol.ts';

const dateOf = (rules: SessionRules, iso: string | null) => (iso === null ? null : sessionDateOf(rules, Date.parse(iso)));

export function HistoryNote({ span, quality }: { span: HistorySpanResponse; quality: DataQualityReport }) {
  const { symbol, session: rules } = useMarket();
  const real = { first: dateOf(rules, span.real.first), last: dateOf(rules, span.real.last) };
  const simulated = { first: dateOf(rules, span.simulated.first), last: dateOf(rules, span.simulated.last) };
  const missing = quality.byDay.filter((d) => d.present === 0 && d.expected > 0);
  const firstMissing = missing[0]?.date;
  const lastMissing = missing.at(-1)?.date;
  return (
    <div class="small" data-testid="history-note">
      {span.all.bars === 0 ? (
        <p>No bars are stored yet.</p>
      ) : (
        <p>
          {real.last !== null ? (
            <>
              Real history: <b>{real.first}</b> to <b data-testid="history-ends">{real.last}</b> ({integer(span.real.bars)} bars); it ends on {real.last}.
            </>
          ) : (
            'No real (market) bars are stored.'
          )}
          {simulated.last !== null && (
            <>
              {' '}
              Simulated bars (the built-in simulator&apos;s, not market data): {simulated.first} to {simulated.last} ({integer(span.simulated.bars)} bars).
            </>
          )}
        </p>
      )}
      {missing.length > 0 && firstMissing !== undefined && lastMissing !== undefined && (
        <p data-testid="fill-hint">
          {missing.length === 1 ? `1 session, ${firstMissing}, has no bars.` : `${integer(missing.length)} sessions from ${firstMissing} to ${lastMissing} have no bars.`} Fill them from a file of 5-minute bars with{' '}
          <code>npx tasa import &lt;file.csv.gz&gt; --symbol {symbol}</code>, or from TwelveData (needs <code>TWELVEDATA_API_KEYS</code>) with{' '}
          <code>
            npx tasa backfill --symbol {symbol} --from {firstMissing} --to {lastMissing}
          </code>
          . The failsafe job fills the latest sessions on its own.
        </p>
      )}
    </div>
  );
}
