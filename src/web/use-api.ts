/** A hook for one REST resource: loading, data, or the error; reloads on demand or on a timer. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.ts';

export interface Resource<T> {
  data: T | null;
  error: string | null;
  /** HTTP status of the failed request (404 = the resource does not exist yet); null otherwise. */
  errorStatus: number | null;
  loading: boolean;
  reload: () => void;
}

interface State<T> {
  data: T | null;
  error: string | null;
  errorStatus: number | null;
  loading: boolean;
}

/** `path` null = nothing to load yet. Data is kept while a reload is in flight, so views do not flicker. */
export function useApi<T>(path: string | null, refreshMs = 0, load: (path: string) => Promise<T> = getJson): Resource<T> {
  const [state, setState] = useState<State<T>>({ data: null, error: null, errorStatus: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (path === null) {
      setState({ data: null, error: null, errorStatus: null, loading: false });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load(path).then(
      (data) => live && setState({ data, error: null, errorStatus: null, loading: false }),
      (err: unknown) =>
        live &&
        setState({ data: null, error: err instanceof Error ? err.message : String(err), errorStatus: err instanceof ApiError ? err.status : null, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  useEffect(() => {
    if (refreshMs <= 0) return;
    const id = setInterval(reload, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs, reload]);
  return { ...state, reload };
}
