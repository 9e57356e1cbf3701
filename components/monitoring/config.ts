import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { duration, durationMs, fromText, isHttpUrl, key, number, pinnedImage, port, positiveNumber, ratio, setHint, setSecretHint } from "../config/schema";
import { DEFAULT_IMAGES } from "../config/versions";

/** Name of Prometheus' self-scrape job; the TF Serving job must not take it. */
export const PROMETHEUS_SELF_JOB = "prometheus";

/** The monitoring part's keys: Prometheus, its scrape job, the alert thresholds and Alertmanager. */
export const monitoringKeys = {
  prometheusImage: pinnedImage.default(DEFAULT_IMAGES.prometheus),
  prometheusHostPort: port.default(9090),
  prometheusRetention: z
    .string()
    .refine((text) => (durationMs(text) ?? 0) >= 3_600_000, "must be a duration of at least 1h, such as 30d")
    // At least the SLO period (sloPeriod, 30d by default): the period's SLI reads that far back.
    .default("30d"),
  prometheusMonitorLabel: z.string().min(1).default("tf-serving-railway-monitor"),
  scrapeJobName: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "must be letters, digits, _ . : -").optional(),
  globalScrapeInterval: duration.default("15s"),
  evaluationInterval: duration.default("15s"),
  scrapeInterval: duration.default("5s"),
  scrapeTimeout: duration.optional(),
  lowTrafficThresholdRps: positiveNumber.default(0.01),
  lowTrafficFor: duration.default("10m"),
  spikeFactor: fromText(number().gt(1, "must be greater than 1")).default(3),
  spikeMinBaselineRps: positiveNumber.default(0.1),
  spikeFor: duration.default("1m"),
  errorRatioThreshold: ratio.default(0.05),
  errorRatioFor: duration.default("5m"),
  latencyP95ThresholdMs: positiveNumber.default(500),
  latencyFor: duration.default("5m"),
  alertmanagerImage: pinnedImage.default(DEFAULT_IMAGES.alertmanager),
  alertmanagerHostPort: port.default(9093),
};

export const MONITORING_SECRET_KEYS = ["alertmanagerWebhookUrl"] as const;

export function monitoringProblems({ plain, secretsPresent, secretValue }: ConfigContext): string[] {
  const problems: string[] = [];
  // Checked here rather than when prometheus.yml is rendered: in prod that happens only after the Railway
  // deploy (the scrape target is its output), so `pulumi preview` would pass and `pulumi up` fail half-way.
  if (plain.scrapeJobName === PROMETHEUS_SELF_JOB) {
    problems.push(`${key("scrapeJobName")}: "${PROMETHEUS_SELF_JOB}" is taken by Prometheus' self-scrape job; ${setHint("scrapeJobName", "tf-serving-railway")}`);
  }
  // The value is a secret: the message describes it without echoing it.
  if (secretsPresent.alertmanagerWebhookUrl && !isHttpUrl(secretValue("alertmanagerWebhookUrl")!)) {
    problems.push(`${key("alertmanagerWebhookUrl")}: must be an http(s) URL; ${setSecretHint("alertmanagerWebhookUrl", "https://<receiver>/<path>")}`);
  }
  const scrapeTimeout = scrapeTimeoutOf(plain.scrapeTimeout, plain.scrapeInterval);
  if ((durationMs(scrapeTimeout) ?? 0) >= (durationMs(plain.scrapeInterval) ?? 0)) {
    problems.push(
      `${key("scrapeTimeout")}: must be shorter than ${key("scrapeInterval")} (${scrapeTimeout} >= ${plain.scrapeInterval}); ${setHint("scrapeTimeout", "4s")}`,
    );
  }
  return problems;
}

export function monitoringDerived({ plain }: ConfigContext) {
  return {
    scrapeJobName: plain.scrapeJobName ?? `tf-serving-${plain.deployTarget}`,
    scrapeTimeout: scrapeTimeoutOf(plain.scrapeTimeout, plain.scrapeInterval),
  };
}

/** As set, or 80% of the scrape interval (whole milliseconds), so a slow target times out before the next scrape. */
function scrapeTimeoutOf(scrapeTimeout: string | undefined, scrapeInterval: string): string {
  if (scrapeTimeout !== undefined) return scrapeTimeout;
  const timeoutMs = Math.max(1, Math.floor((durationMs(scrapeInterval) ?? 0) * 0.8));
  return timeoutMs % 1000 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`;
}
