/**
 * Sharing one run's REST budget between symbols (pure): max-min fairness. Every symbol is offered
 * an equal share; what a symbol does not need (it misses less) is offered again, equally, to the
 * symbols still wanting more, until the budget or the needs run out. Requests are whole, so a
 * remainder smaller than the number of symbols still wanting goes one request each to the first
 * of them in the given order (the caller orders by need: most missing first).
 */

export interface RequestNeed {
  key: string;
  /** REST requests a complete fill would take; 0 for nothing to do. */
  needed: number;
}

/**
 * Each key's allowance, in the order given; never more than its need, and summing to at most the
 * budget. `budget` may be Infinity (no limit known): every key is allowed its need.
 */
export function fairShares(needs: readonly RequestNeed[], budget: number): Map<string, number> {
  const allowed = new Map(needs.map((n) => [n.key, 0]));
  let left = Number.isFinite(budget) ? Math.max(0, Math.floor(budget)) : needs.reduce((sum, n) => sum + Math.max(0, n.needed), 0);
  let wanting = needs.filter((n) => n.needed > 0);
  while (left > 0 && wanting.length > 0) {
    // At least one each (in order) while fewer requests are left than symbols want them.
    const share = Math.max(1, Math.floor(left / wanting.length));
    for (const n of wanting) {
      const give = Math.min(share, n.needed - (allowed.get(n.key) ?? 0), left);
      allowed.set(n.key, (allowed.get(n.key) ?? 0) + give);
      left -= give;
    }
    wanting = wanting.filter((n) => (allowed.get(n.key) ?? 0) < n.needed);
  }
  return allowed;
}
