/**
 * How many requests one generation endpoint gets at once, found while the job runs.
 * Ollama serves OLLAMA_NUM_PARALLEL requests and queues the rest; vLLM batches dozens.
 * Past the server's capacity, more requests in flight only add queueing: the round
 * trip grows and throughput stays flat. So the limit follows the round trip (a gradient
 * limiter, after Netflix's concurrency-limits):
 * - slow start: +1 per request answered without queueing while the limit is in use;
 * - then `limit × gradient + √limit`, where gradient = tolerated round trip ÷ measured
 *   (clamped to ½…1): it settles a few requests above capacity, so the server always
 *   has the next one waiting and never a long queue;
 * - a failure (timeout, 5xx, dropped connection) halves it.
 * The configured concurrency is the ceiling.
 */

/** A round trip up to this multiple of the fastest one is taken as "no queue". */
const TOLERANCE = 1.5;
/**
 * Share of the gap to the new estimate closed per round trip of the whole limit: each
 * answer moves it by SMOOTHING ÷ limit, so a busy endpoint (many answers per round
 * trip) does not race ahead of the queue's feedback, which comes one round trip late.
 */
const SMOOTHING = 0.5;

export class AdaptiveLimit {
  private value: number;
  private active = 0;
  private fastestMs = Infinity;
  private slowStart = true;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    initial = Math.min(4, max),
  ) {
    this.value = initial;
  }

  /** Requests allowed at once now. */
  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  get inFlight(): number {
    return this.active;
  }

  /** Waits for a free slot, then holds it until `release`. */
  async acquire(): Promise<void> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  release(): void {
    this.active--;
    this.wake();
  }

  /** One request's round trip, from a caller holding a slot. */
  observe({ ms, ok }: { ms: number; ok: boolean }): void {
    const saturated = this.active >= this.limit;
    if (!ok) {
      this.value = Math.max(1, this.value / 2);
      this.slowStart = false;
      return;
    }
    this.fastestMs = Math.min(this.fastestMs, ms);
    const tolerated = TOLERANCE * this.fastestMs;
    if (this.slowStart && ms <= tolerated) {
      // Only a limit in use says anything about the server: an idle one must not grow.
      if (saturated) this.value = Math.min(this.max, this.value + 1);
      return;
    }
    this.slowStart = false;
    const gradient = Math.min(1, Math.max(0.5, tolerated / ms));
    if (gradient === 1 && !saturated) return;
    const estimate = this.value * gradient + Math.sqrt(this.value);
    const step = ((estimate - this.value) * SMOOTHING) / this.value;
    this.value = Math.min(this.max, Math.max(1, this.value + step));
    this.wake();
  }

  private wake() {
    for (let free = this.limit - this.active; free > 0 && this.waiting.length > 0; free--) this.waiting.shift()!();
  }
}
