/** TODO(helper): the system view. */
export function SystemView() {
  return <section class="panel"><p class="empty">Not built yet.</p></section>;
}
