/**
 * How many examples to ask of each chunk: the target spread over all documents in
 * proportion to their content (largest remainders), or, when there are more chunks
 * than examples wanted (a preview), one example from chunks evenly spaced through them.
 */
export type PlannedChunk = { id: string; tokenCount: number };

export function planQuotas(chunks: PlannedChunk[], target: number, perCall = 1): Map<string, number> {
  const quotas = new Map<string, number>();
  if (chunks.length === 0 || target <= 0) return quotas;
  if (perCall > 1 && chunks.length * perCall < target) {
    // Plan whole calls (perCall examples each) so no request asks for a leftover 1 or 2;
    // only the last chunk planned absorbs the rounding.
    const calls = planQuotas(chunks, Math.ceil(target / perCall));
    let excess = [...calls.values()].reduce((a, b) => a + b, 0) * perCall - target;
    for (const [id, n] of calls) quotas.set(id, n * perCall);
    for (const id of [...quotas.keys()].reverse()) {
      if (excess <= 0) break;
      const cut = Math.min(excess, quotas.get(id)! - 1);
      quotas.set(id, quotas.get(id)! - cut);
      excess -= cut;
    }
    return quotas;
  }
  if (chunks.length >= target) {
    const stride = chunks.length / target;
    for (let i = 0; i < target; i++) quotas.set(chunks[Math.floor(i * stride)]!.id, 1);
    return quotas;
  }
  const total = chunks.reduce((n, c) => n + Math.max(1, c.tokenCount), 0);
  const exact = chunks.map((c) => (target * Math.max(1, c.tokenCount)) / total);
  const floors = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = target - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) floors[order[k]![1]]!++;
  // Minimum of one per chunk can overshoot on tiny targets: trim from the largest.
  while (left < 0) {
    const i = floors.indexOf(Math.max(...floors));
    floors[i]!--;
    left++;
  }
  chunks.forEach((c, i) => floors[i]! > 0 && quotas.set(c.id, floors[i]!));
  return quotas;
}

const EVAL_RATIO = 0.1;
const splitRank = (key: string) => new Bun.CryptoHasher("sha1").update(`42:${key}`).digest().readUInt32BE(0);

/** Eval examples come from whole documents (or, with few documents, whole chunks) that
 * train never sees, chosen by a seeded hash so a resumed run picks the same ones. */
export function evalSplit<C extends { id: string; fileId: string }>(all: C[], quotas: Map<string, number>) {
  const groupByFile = new Set(all.map((c) => c.fileId)).size >= 5;
  const groupOf = (c: C) => (groupByFile ? c.fileId : c.id);
  const groups = [...new Set(all.filter((c) => quotas.has(c.id)).map(groupOf))].sort((a, b) => splitRank(a) - splitRank(b));
  const evalGroups = new Set(groups.length >= 2 ? groups.slice(0, Math.max(1, Math.round(groups.length * EVAL_RATIO))) : []);
  return (c: C): "train" | "eval" => (evalGroups.has(groupOf(c)) ? "eval" : "train");
}
