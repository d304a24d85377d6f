/** TODO(helper): the research view. */
export function ResearchView() {
  return <section class="panel"><p class="empty">Not built yet.</p></section>;
}
