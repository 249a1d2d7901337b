/**
 * The `--probability` strings of kube-proxy's balancing rules: Go's `fmt.Sprintf("%0.10f", 1.0/float64(n))`.
 * Go rounds the exact binary value of the float64 to 10 decimals with ties to even; JavaScript's toFixed
 * rounds ties up (n = 2048 gives ...2813 instead of Go's ...2812), so we do the decimal arithmetic exactly.
 */

export function probabilityFor(endpointsLeft: number): string {
  return formatFixedExact(1 / endpointsLeft, 10);
}

/** `x` with `digits` decimals, rounded half-to-even from its exact binary value (x must be finite, ≥ 0). */
export function formatFixedExact(x: number, digits: number): string {
  const { mantissa, exponent } = decompose(x);
  const scale = 10n ** BigInt(digits);
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale;
  } else {
    const numerator = mantissa * scale;
    const denominator = 1n << BigInt(-exponent);
    const quotient = numerator / denominator;
    const twiceRemainder = 2n * (numerator % denominator);
    const roundUp = twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n);
    scaled = roundUp ? quotient + 1n : quotient;
  }
  const text = scaled.toString().padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** x = mantissa × 2^exponent, exactly. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
