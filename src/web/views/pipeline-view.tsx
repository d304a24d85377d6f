/** TODO(helper): the pipeline view. */
export function PipelineView() {
  return <section class="panel"><p class="empty">Not built yet.</p></section>;
}
