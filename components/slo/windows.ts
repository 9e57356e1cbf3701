/**
 * The multi-window, multi-burn-rate alert windows of the Google SRE workbook ("Alerting on SLOs",
 * recommended parameters), as Sloth ships them (internal/alert/windows/google-30d.yaml, google-28d.yaml):
 * the same windows for both periods, a burn factor derived from the share of the budget each may spend.
 */
export const SLO_PERIODS = ["30d", "28d"] as const;
export type SloPeriod = (typeof SLO_PERIODS)[number];
export const PERIOD_DAYS: Record<SloPeriod, number> = { "30d": 30, "28d": 28 };

export type BurnWindow = "5m" | "30m" | "1h" | "2h" | "6h" | "1d" | "3d";

export interface BurnArm {
  short: BurnWindow;
  long: BurnWindow;
  longHours: number;
  /** Share of the period's budget that burning at this arm's factor spends within the long window. */
  budgetShare: number;
}

/** Page: quick (2% of the budget in 1h) or slow (5% in 6h); ticket: 10% in 1d or 10% in 3d. */
export const BURN_ALERTS = {
  page: [
    { short: "5m", long: "1h", longHours: 1, budgetShare: 0.02 },
    { short: "30m", long: "6h", longHours: 6, budgetShare: 0.05 },
  ],
  ticket: [
    { short: "2h", long: "1d", longHours: 24, budgetShare: 0.1 },
    { short: "6h", long: "3d", longHours: 72, budgetShare: 0.1 },
  ],
} as const satisfies Record<"page" | "ticket", readonly [BurnArm, BurnArm]>;

/** Every window an SLI is recorded over, shortest first. */
export const SLI_WINDOWS: BurnWindow[] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/** How many times faster than "exactly the budget over the period" an arm fires: 14.4, 6, 3 and 1 for 30d. */
export function burnFactor(arm: BurnArm, period: SloPeriod): number {
  return Number(((arm.budgetShare * PERIOD_DAYS[period] * 24) / arm.longHours).toPrecision(10));
}
