/** A seeded PRNG for sampling (mulberry32): small, fast, good enough for load-balancing draws. */
export type Rng = () => number;

/** Returns a function giving unsigned 32-bit integers; the same seed gives the same sequence. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * `-m statistic --mode random --probability p` as the kernel decides it: the match option stores
 * `lround(p * 2^31)` and the rule matches when `(random32 & 0x7fffffff) < stored`.
 */
export function statisticThreshold(p: number): number {
  return Math.min(0x80000000, Math.max(0, Math.round(p * 0x80000000)));
}

export function randomMatches(rng: Rng, threshold: number): boolean {
  return (rng() & 0x7fffffff) < threshold;
}
