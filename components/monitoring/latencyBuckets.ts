/**
 * TF Serving's latency histogram buckets, as it prints them and as Prometheus stores them: the latency
 * SLO's threshold must sit on one of these bounds, and its PromQL selects that bound's `le` series.
 */

/** TF Serving's latency buckets in microseconds (`Buckets::Exponential(10, 1.8, 33)`), as it prints them. */
export const LATENCY_BOUNDS_US = [
  10, 18, 32.4, 58.32, 104.976, 188.957, 340.122, 612.22, 1102, 1983.59, 3570.47, 6426.84, 11568.3, 20823, 37481.3, 67466.4,
  121440, 218591, 393464, 708235, 1.27482e6, 2.29468e6, 4.13043e6, 7.43477e6, 1.33826e7, 2.40887e7, 4.33596e7, 7.80473e7,
  1.40485e8, 2.52873e8, 4.55172e8, 8.19309e8, 1.47476e9,
];

/** A double as absl::StrCat prints it, i.e. C's `%.6g`: 1274820 -> 1.27482e+06 (bucket bounds and `_sum`). */
export function formatDouble(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : value < 0 ? "-inf" : "nan";
  if (value === 0) return "0";
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(6)))));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, power] = value.toExponential(5).split("e");
    const trimmed = mantissa.replace(/\.?0+$/, "");
    const sign = power.startsWith("-") ? "-" : "+";
    return `${trimmed}e${sign}${power.replace(/^[-+]/, "").padStart(2, "0")}`;
  }
  return String(Number(value.toPrecision(6)));
}

/**
 * An `le` value as Prometheus 3 stores it: the scrape parser rewrites a histogram's `le` with Go's shortest
 * `%g` and appends `.0` to a bare integer (labels.FormatOpenMetricsFloat), so TF Serving's 393464 is
 * stored as 393464.0 while 1.27482e+06 and 67466.4 stay as printed.
 */
export function prometheusLeValue(bound: number): string {
  // Go's shortest %g writes an exponent from 1e6 on (JavaScript's String only from 1e21); the bounds are all >= 10.
  if (bound >= 1e6) {
    const [mantissa, power] = bound.toExponential().split("e");
    return `${mantissa}e+${power.replace(/^\+/, "").padStart(2, "0")}`;
  }
  const text = String(bound);
  return text.includes(".") ? text : `${text}.0`;
}

/** The bound nearest below and above a latency in microseconds (undefined beyond either end). */
export function neighbouringBounds(valueUs: number): { below?: number; above?: number } {
  return { below: [...LATENCY_BOUNDS_US].reverse().find((bound) => bound < valueUs), above: LATENCY_BOUNDS_US.find((bound) => bound > valueUs) };
}

/** The bound a threshold in milliseconds names, if it is one (the README lists them in ms: 393.464 = 393464 us). */
export function boundForMs(thresholdMs: number): number | undefined {
  return LATENCY_BOUNDS_US.find((bound) => Math.abs(bound - thresholdMs * 1000) <= bound * 1e-9);
}
