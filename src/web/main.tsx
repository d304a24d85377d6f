/**
 * The dashboard shell: top bar, hash routes (#/terminal, #/quality, #/pipeline, #/research,
 * #/system), API token, and the selected instrument: the instruments come from GET
 * /api/instruments, the selected one's market is provided to every view (selected-symbol.ts), and
 * a view is rebuilt when the selection changes. The terminal has the watchlist above it.
 */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { InstrumentsBody, InstrumentView } from '../contracts/api/instruments.ts';
import { storedToken, storeToken } from './api.ts';
import { ClockBadge } from './components/clock-badge.tsx';
import { Watchlist } from './components/watchlist.tsx';
import { MarketContext, marketOf, pickInstrument, useRequestedSymbol, type Market } from './selected-symbol.ts';
import { useApi } from './use-api.ts';
import './styles.css';
import { PipelineView } from './views/pipeline-view.tsx';
import { QualityView } from './views/quality-view.tsx';
import { ResearchView } from './views/research-view.tsx';
import { SystemView } from './views/system-view.tsx';
import { TerminalView } from './views/terminal-view.tsx';

const VIEWS = [
  { path: 'terminal', label: 'Terminal', view: TerminalView },
  { path: 'quality', label: 'Data quality', view: QualityView },
  { path: 'pipeline', label: 'Pipeline', view: PipelineView },
  { path: 'research', label: 'Research', view: ResearchView },
  { path: 'system', label: 'System', view: SystemView },
] as const;

function currentPath(): string {
  return location.hash.replace(/^#\/?/, '').split('?')[0] || 'terminal';
}

function App() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onHash = () => setPath(currentPath());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const active = VIEWS.find((v) => v.path === path) ?? VIEWS[0];
  const View = active.view;
  // Market status and last prices move: the watchlist reloads them now and then (ticks move prices in between).
  const instruments = useApi<InstrumentsBody>('/api/instruments', 30_000);
  // A failed reload (the server unreachable a moment) keeps the last list: the views stay up and say what they can.
  const lastServed = useRef<InstrumentView[] | null>(null);
  if (instruments.data !== null) lastServed.current = instruments.data.instruments;
  const served = lastServed.current;
  const requested = useRequestedSymbol();
  const picked = served === null ? null : pickInstrument(served, requested);
  const symbol = picked?.symbol ?? null;
  // The market's rules do not change between reloads: one Market per symbol, so views are not re-rendered for nothing.
  const market = useMemo((): Market | null => (picked === null ? null : marketOf(picked)), [symbol]);
  useEffect(() => {
    document.title = `${active.label} · Tasa ${symbol ?? ''}`.trim();
  }, [active, symbol]);
  return (
    <>
      <a class="skip" href="#content" onClick={(e) => {
        e.preventDefault();
        document.getElementById('content')?.focus();
      }}>
        Skip to content
      </a>
      <header class="top">
        <h1 data-testid="selected-symbol">Tasa · {symbol ?? '…'}</h1>
        <nav class="views" aria-label="Views">
          {VIEWS.map((v) => (
            <a key={v.path} href={`#/${v.path}`} aria-current={v === active ? 'page' : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {market && (
          <MarketContext.Provider value={market}>
            <ClockBadge />
          </MarketContext.Provider>
        )}
        <TokenBox />
      </header>
      <main id="content" tabIndex={-1} data-view={active.path} data-symbol={symbol ?? undefined}>
        {instruments.error !== null && served === null && <p class="empty">Could not load the instruments this server serves: {instruments.error}</p>}
        {market && (
          <MarketContext.Provider value={market}>
            {active.path === 'terminal' && served && <Watchlist instruments={served} selected={market.symbol} onMarketStatus={instruments.reload} />}
            {/* A new symbol is a new view: its requests, socket subscription and chart start afresh. */}
            <View key={`${active.path} ${market.symbol}`} />
          </MarketContext.Provider>
        )}
      </main>
    </>
  );
}

/** The API token for admin and trader actions, kept in this browser only. */
function TokenBox() {
  const [token, setToken] = useState(storedToken() ?? '');
  const [saved, setSaved] = useState(storedToken() !== null);
  return (
    <form
      class="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        storeToken(token.trim());
        setSaved(token.trim() !== '');
      }}
    >
      <label for="token" class="muted">
        API token
      </label>
      <input id="token" type="password" autocomplete="off" placeholder="tasa_…" value={token} onInput={(e) => setToken(e.currentTarget.value)} size={14} />
      <button type="submit">{saved ? 'Update' : 'Save'}</button>
    </form>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
