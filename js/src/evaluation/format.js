// @ts-check
// Number formatting for the evaluation panel.

/** Milliseconds as "812 ms" / "2.4 s", or "–" when unknown. @param {number|null|undefined} ms */
export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Seconds left as "42 s" / "3 min", or "–". @param {number|null|undefined} s */
export function formatEta(s) {
  if (s == null || !Number.isFinite(s)) return "–";
  return s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}
