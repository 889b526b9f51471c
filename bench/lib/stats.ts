/** Small, dependency-free statistics for benchmark samples. */

/** The value at quantile `q` (0..1) by nearest rank, so a reported p99 is an observed sample. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median; for an even count, the mean of the two middle samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to `digits` decimals for display and for results.json. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A seeded xorshift32 generator of numbers in [0, 1), so a run's shuffles and resamples are reproducible. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: good enough to decorrelate run order from machine noise.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** Fisher–Yates shuffle with a seeded generator, so a run's interleaving order is reproducible. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One bundle's samples in a ratio: ours and the baseline build it is compared with, each from its own processes. */
export interface RatioTerm {
  readonly ours: readonly number[];
  readonly naive: readonly number[];
}

/** The share of resampled ratios a reported interval holds. */
export const INTERVAL_LEVEL = 0.9;

export interface IntervalOptions {
  /** Share of the resampled ratios the interval holds; {@link INTERVAL_LEVEL} by default. */
  readonly level?: number;
  /** Number of resamples; 2000 by default. */
  readonly resamples?: number;
  readonly seed?: number;
}

/**
 * How far the ratio `sum(median(ours) - base) / sum(median(naive) - base)` over `terms` could move
 * had the run drawn other processes from the same machine: a percentile bootstrap interval. Each
 * sample set is resampled with replacement on its own, because every sample is a separate process;
 * `base` (the bare-node median, over hundreds of processes) is held fixed. A budget whose limit lies
 * inside the interval is one this run cannot settle either way.
 */
export function ratioInterval(terms: readonly RatioTerm[], base: number, options: IntervalOptions = {}): [number, number] {
  const { level = INTERVAL_LEVEL, resamples = 2000, seed = 0x5eed } = options;
  if (terms.length === 0 || terms.some((t) => t.ours.length === 0 || t.naive.length === 0)) return [Number.NaN, Number.NaN];
  const next = seededRandom(seed);
  const scratch: number[] = [];
  const resampledMedian = (samples: readonly number[]) => {
    scratch.length = samples.length;
    for (let i = 0; i < samples.length; i++) scratch[i] = samples[Math.floor(next() * samples.length)]!;
    return median(scratch);
  };
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let ours = 0;
    let naive = 0;
    for (const t of terms) {
      ours += resampledMedian(t.ours) - base;
      naive += resampledMedian(t.naive) - base;
    }
    ratios.push(ours / naive);
  }
  const tail = (1 - level) / 2;
  return [quantile(ratios, tail), quantile(ratios, 1 - tail)];
}
