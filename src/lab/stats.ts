/**
 * Pearson's chi-square goodness-of-fit test: is a table of counts plausible under given probabilities? The
 * p-value is the chi-square survival function, the regularized upper incomplete gamma Q(k/2, x/2), computed by
 * its series (x < a + 1) or its continued fraction (otherwise), as in Numerical Recipes §6.2.
 */

export interface ChiSquare {
  statistic: number;
  degreesOfFreedom: number;
  /** Probability of a statistic at least this large if the counts follow the probabilities. */
  p: number;
}

/** `counts[i]` observed where `probabilities[i]` was expected (probabilities sum to 1, all > 0). */
export function chiSquareTest(counts: readonly number[], probabilities: readonly number[]): ChiSquare {
  const total = counts.reduce((a, b) => a + b, 0);
  let statistic = 0;
  counts.forEach((observed, i) => {
    const expected = total * (probabilities[i] as number);
    statistic += ((observed - expected) * (observed - expected)) / expected;
  });
  const degreesOfFreedom = counts.length - 1;
  return { statistic, degreesOfFreedom, p: chiSquareSurvival(statistic, degreesOfFreedom) };
}

export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (degreesOfFreedom <= 0) return 1;
  if (statistic <= 0) return 1;
  return upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2);
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x < a + 1) return 1 - lowerSeries(a, x);
  return upperContinuedFraction(a, x);
}

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 1000;

/** P(a, x) by its power series. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by Lentz's continued fraction. */
function upperContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** ln Γ(z) for z > 0, Lanczos approximation (g = 7, 9 terms), good to about 15 digits. */
export function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const g = 7;
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const w = z - 1;
  let sum = coefficients[0] as number;
  for (let i = 1; i < g + 2; i++) sum += (coefficients[i] as number) / (w + i);
  const t = w + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(sum);
}
