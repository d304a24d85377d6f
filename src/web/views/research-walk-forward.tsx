/**
 * Walk-forward: the latest completed run of the symbol, its verdict, each policy's out-of-sample
 * figures over the folds (whatever policies the run evaluated), the per-fold rows on demand, and
 * a link to the self-contained HTML report.
 *
 * Routes: GET /api/research/walk-forward?status=completed&limit=1, /api/research/walk-forward/{id},
 * /api/research/walk-forward/{id}/report (link).
 */
import { CheckBadge } from '../components/badge.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { decimal, integer, percent, shortHash, zonedDateTime } from '../format.ts';
import { useMarket, useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import type { WalkForwardPolicyView, WalkForwardRunDetail, WalkForwardRunPage } from '../../contracts/api/walk-forward.ts';

const MISSING = 'This server does not serve walk-forward runs yet (GET /api/research/walk-forward answered 404).';

export function WalkForwardPanel() {
  const market = useMarket();
  const latest = useApi<WalkForwardRunPage>(`/api/research/walk-forward?symbol=${market.path}&status=completed&limit=1`, 60_000);
  return (
    <Loaded resource={latest} missing={MISSING}>
      {(page) => {
        const run = page.items[0];
        if (run === undefined) return <Empty>No walk-forward run has completed yet: `npx tasa pipeline run` evaluates every policy over the walk-forward folds after L6.</Empty>;
        return <LatestRun id={run.id} />;
      }}
    </Loaded>
  );
}

function LatestRun({ id }: { id: number }) {
  const run = useApi<WalkForwardRunDetail>(`/api/research/walk-forward/${id}`);
  return (
    <Loaded resource={run} missing={`Walk-forward run ${id} does not exist.`}>
      {(r) => <RunSummary run={r} />}
    </Loaded>
  );
}

function RunSummary({ run }: { run: WalkForwardRunDetail }) {
  const zone = useZone();
  if (run.report === null) return <Empty>Walk-forward run #{run.id} has no report ({run.status}).</Empty>;
  const { report } = run;
  return (
    <div data-testid="walk-forward">
      <p class="wrap">
        <strong>{run.verdict}</strong>
      </p>
      <p class="muted small">
        Run #{run.id} · {integer(run.folds)} folds ({report.mode} training window) · {integer(report.trials)} trials · PSR/DSR confidence {percent(report.confidence, 0)} · dataset{' '}
        <code title={run.datasetHash ?? undefined}>{shortHash(run.datasetHash)}</code> · finished {zonedDateTime(zone, run.finishedAt)}
        {run.hasReport && (
          <>
            {' · '}
            <a href={`/api/research/walk-forward/${run.id}/report`} target="_blank" rel="noopener">
              HTML report
            </a>
          </>
        )}
      </p>
      <PolicyTable policies={report.policies} />
      <details>
        <summary>Per fold</summary>
        <FoldTable policies={report.policies} />
      </details>
    </div>
  );
}

function PolicyTable({ policies }: { policies: WalkForwardPolicyView[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>policy</th>
            <th>kind</th>
            <th class="num">Sharpe mean</th>
            <th class="num">median</th>
            <th class="num">sd</th>
            <th class="num">folds &gt; 0</th>
            <th class="num" title="Folds where it beat the best other baseline">beat best baseline</th>
            <th class="num">passed gates</th>
            <th class="num">stitched return</th>
            <th class="num">PSR</th>
            <th class="num">DSR</th>
            <th>verdict</th>
          </tr>
        </thead>
        <tbody>
          {policies.map((p) => (
            <tr key={p.policyId} data-policy={p.policyId}>
              <td>
                <code>{p.policyId}</code>
              </td>
              <td>{p.kind}</td>
              <td class="num">{decimal(p.meanSharpe, 2)}</td>
              <td class="num">{decimal(p.medianSharpe, 2)}</td>
              <td class="num">{decimal(p.sharpeStdev, 2)}</td>
              <td class="num">{`${p.positiveFolds}/${p.folds}`}</td>
              <td class="num">{`${p.beatBestBaselineFolds}/${p.folds}`}</td>
              <td class="num">{`${p.passedFolds}/${p.folds}`}</td>
              <td class="num">{percent(p.stitchedReturn)}</td>
              <td class="num">{decimal(p.psr, 2)}</td>
              <td class="num">{decimal(p.dsr, 2)}</td>
              <td class="wrap verdict">{p.verdict}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FoldTable({ policies }: { policies: WalkForwardPolicyView[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>policy</th>
            <th class="num">fold</th>
            <th>test sessions</th>
            <th class="num">net return</th>
            <th class="num">Sharpe</th>
            <th class="num">trades</th>
            <th>gates</th>
          </tr>
        </thead>
        <tbody>
          {policies.flatMap((p) =>
            p.perFold.map((f) => (
              <tr key={`${p.policyId}-${f.fold}`}>
                <td>
                  <code>{p.policyId}</code>
                </td>
                <td class="num">{f.fold}</td>
                <td>
                  {f.testFrom} – {f.testTo}
                </td>
                <td class="num">{percent(f.totalReturn)}</td>
                <td class="num">{decimal(f.sharpe, 2)}</td>
                <td class="num">{integer(f.trades)}</td>
                <td>
                  <CheckBadge ok={f.passed} yes="pass" no="fail" />
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  );
}
