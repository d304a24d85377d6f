/** The dashboard shell: top bar, hash routes (#/terminal, #/quality, #/pipeline, #/research, #/system), API token. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { storedToken, storeToken } from './api.ts';
import { ClockBadge } from './components/clock-badge.tsx';
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
  useEffect(() => {
    document.title = `${active.label} · Tasa USD/COP`;
  }, [active]);
  return (
    <>
      <a class="skip" href="#content" onClick={(e) => {
        e.preventDefault();
        document.getElementById('content')?.focus();
      }}>
        Skip to content
      </a>
      <header class="top">
        <h1>Tasa · USD/COP</h1>
        <nav class="views" aria-label="Views">
          {VIEWS.map((v) => (
            <a key={v.path} href={`#/${v.path}`} aria-current={v === active ? 'page' : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <ClockBadge />
        <TokenBox />
      </header>
      <main id="content" tabIndex={-1} data-view={active.path}>
        <View key={active.path} />
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
