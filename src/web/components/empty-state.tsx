/** What a panel shows instead of its content: loading, an error, or honestly nothing yet. */
import type { ComponentChildren } from 'preact';
import type { Resource } from '../use-api.ts';

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/**
 * Renders `children(data)` once loaded; a 404 from a route that is not there yet or a missing
 * resource shows `missing` (an honest empty state), other errors their message.
 */
export function Loaded<T>({ resource, missing, children }: { resource: Resource<T>; missing?: string; children: (data: T) => ComponentChildren }) {
  if (resource.data !== null) return <>{children(resource.data)}</>;
  if (resource.error !== null) {
    if (resource.errorStatus === 404 && missing !== undefined) return <Empty>{missing}</Empty>;
    return <Empty>Could not load: {resource.error}</Empty>;
  }
  return <p class="empty" aria-busy="true">Loading…</p>;
}
