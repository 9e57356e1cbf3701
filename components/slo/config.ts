import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { durationMs, fromText, key, number, positiveNumber, setHint } from "../config/schema";
import { boundForMs, neighbouringBounds } from "../monitoring/latencyBuckets";
import { BURN_ALERTS, SLO_PERIODS, burnFactor } from "./windows";

/** TF Serving's bound nearest under the old 500 ms p95 threshold. */
export const DEFAULT_LATENCY_THRESHOLD_MS = 393.464;

const objective = (example: string) =>
  fromText(number().gt(0, "must be above 0").lt(1, `must be a ratio below 1, e.g. ${example}`));

/** The SLO part's keys: the two objectives per model, the latency SLI's threshold and the period. */
export const sloKeys = {
  sloAvailabilityObjective: objective("0.999 for 99.9% of requests OK").default(0.999),
  sloLatencyObjective: objective("0.99 for 99% of REST predict calls under the threshold").default(0.99),
  sloLatencyThresholdMs: positiveNumber.default(DEFAULT_LATENCY_THRESHOLD_MS),
  sloPeriod: z.enum(SLO_PERIODS, { error: "must be 30d or 28d (the periods Sloth ships Google's alert windows for)" }).default("30d"),
};

const ms = (us: number) => `${Number((us / 1000).toPrecision(6))}`;

export function sloProblems({ plain }: ConfigContext): string[] {
  const problems: string[] = [];
  const thresholdMs = plain.sloLatencyThresholdMs;
  if (boundForMs(thresholdMs) === undefined) {
    const { below, above } = neighbouringBounds(thresholdMs * 1000);
    const nearest = [below, above].filter((bound) => bound !== undefined).map((bound) => `${ms(bound)} ms`);
    problems.push(
      `${key("sloLatencyThresholdMs")}: ${thresholdMs} ms is not a bound of TF Serving's latency histogram, so no series counts requests under it; ` +
        `${nearest.length === 2 ? "the nearest bounds are" : "the nearest bound is"} ${nearest.join(" and ")}; ${setHint("sloLatencyThresholdMs", ms(below ?? above!))}`,
    );
  }
  const retention = durationMs(plain.prometheusRetention) ?? 0;
  if (retention < (durationMs(plain.sloPeriod) ?? 0)) {
    problems.push(
      `${key("prometheusRetention")}: ${plain.prometheusRetention} is shorter than ${key("sloPeriod")} (${plain.sloPeriod}), so the SLI over the period ` +
        `and the remaining error budget would cover only what Prometheus keeps; ${setHint("prometheusRetention", plain.sloPeriod)} or set a shorter sloPeriod`,
    );
  }
  // The slowest page arm must be able to fire: its factor times the budget has to stay below an error ratio of 1.
  const slowPage = burnFactor(BURN_ALERTS.page[1], plain.sloPeriod);
  for (const name of ["sloAvailabilityObjective", "sloLatencyObjective"] as const) {
    if (slowPage * (1 - plain[name]) >= 1) {
      problems.push(
        `${key(name)}: ${plain[name]} leaves a budget so large that even failing every request burns it slower than ${slowPage}x, ` +
          `so no page could ever fire; ${setHint(name, "0.99")}`,
      );
    }
  }
  return problems;
}

export function sloDerived({ plain }: ConfigContext) {
  return {
    /** The latency threshold as the histogram bound it names, in microseconds (the schema's unit). */
    sloLatencyThresholdUs: boundForMs(plain.sloLatencyThresholdMs) ?? 0,
  };
}
