/** Long, varied, deterministic text for documents in tests and benchmarks. */
const VOCAB =
  "warranty battery charger screen device support repair return receipt purchase model series update firmware network router signal cable adapter power button light display menu setting account password reset backup storage memory speaker microphone camera sensor temperature humidity manual chapter section safety warning cleaning maintenance replacement part order shipping delivery invoice customer service technician appointment schedule location office hours weekday weekend holiday refund exchange credit voucher policy condition damage water dust drop scratch crack noise vibration heat".split(" ");

export function corpusText(words: number, seed = 1): string {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(VOCAB[x % VOCAB.length]!);
    if (i % 15 === 14) out.push(".\n");
    if (i % 120 === 119) out.push("\n");
  }
  return out.join(" ").replace(/ \.\n/g, ".\n");
}
