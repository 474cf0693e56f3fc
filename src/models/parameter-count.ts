/** Parameter counts as model servers write them. */

/** "8.0B" → 8e9, "135M" → 1.35e8 (Ollama's details.parameter_size); null when unreadable. */
export function parameterCount(size: string | undefined | null): number | null {
  const m = /^\s*([\d.]+)\s*([KMBT])\s*$/i.exec(size ?? "");
  if (!m) return null;
  const scale = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2]!.toUpperCase() as "K" | "M" | "B" | "T"];
  return Number(m[1]) * scale;
}

/** The installed model with the most parameters (the default judge); the first listed when none says. */
export function strongestModel(models: string[], parameters: Record<string, number | null>): string | null {
  if (!models.length) return null;
  return models.reduce((best, m) => ((parameters[m] ?? -1) > (parameters[best] ?? -1) ? m : best), models[0]!);
}
