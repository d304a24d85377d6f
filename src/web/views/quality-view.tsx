/** TODO(helper): the quality view. */
export function QualityView() {
  return <section class="panel"><p class="empty">Not built yet.</p></section>;
}
