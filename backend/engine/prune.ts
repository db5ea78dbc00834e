// Keeping a table of counts under a size bound while it learns from a stream (lossy counting): when the table
// outgrows its bound, the keys with the smallest counts go (on ties the oldest first, in Map order) until it
// is down to `pruneTarget(bound)`. The quarter of room left means a prune, O(bound log bound), runs at most
// once per bound/4 new keys: amortised O(log bound) per new key. A pruned key that comes back starts again
// from zero, so a kept count is low by at most what that key had when it was pruned.

/** The size a table that outgrew `bound` is pruned to. */
export function pruneTarget(bound: number): number {
  return Math.floor(bound * 0.75);
}

/**
 * Deletes the entries of `map` with the smallest `countOf` until at most `keep` remain, calling `onDelete` for
 * each (e.g. to fold its mass into a summary). Returns how many were deleted.
 */
export function pruneSmallest<K, V>(map: Map<K, V>, keep: number, countOf: (value: V) => number, onDelete?: (key: K, value: V) => void): number {
  const drop = map.size - Math.max(keep, 0);
  if (drop <= 0) return 0;
  const counts = new Float64Array(map.size);
  let i = 0;
  for (const v of map.values()) counts[i++] = countOf(v);
  counts.sort();
  // every count below `cut` goes; of those equal to it, the first (oldest) ones until `drop` are gone
  const cut = counts[drop - 1];
  let below = 0;
  while (below < drop && counts[below] < cut) below++;
  let tiesToDrop = drop - below;
  let deleted = 0;
  for (const [k, v] of map) {
    const c = countOf(v);
    if (c > cut) continue;
    if (c === cut) {
      if (tiesToDrop === 0) continue;
      tiesToDrop--;
    }
    map.delete(k);
    onDelete?.(k, v);
    deleted++;
  }
  return deleted;
}
