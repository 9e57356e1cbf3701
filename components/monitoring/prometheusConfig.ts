import { stringify } from "yaml";
import { PROMETHEUS_SELF_JOB, StackConfig, durationMs } from "../config/stackConfig";

/** Where the Prometheus container reads its files; the image's defaults for config and TSDB. */
export const PROMETHEUS_PATHS = {
  config: "/etc/prometheus/prometheus.yml",
  // Beside the config: the directory exists in the image, so an upload needs no mkdir.
  rules: "/etc/prometheus/tfserving.rules.yml",
  data: "/prometheus",
} as const;
export const PROMETHEUS_PORT = 9090;
const SELF_JOB = PROMETHEUS_SELF_JOB;

/** TLS settings for an https target, e.g. a private CA in tests; production uses the system roots. */
export interface ScrapeTlsConfig {
  ca_file?: string;
  server_name?: string;
}

export interface ServingScrapeJob {
  jobName: string;
  /** Bare `host[:port]` from the serving endpoint. */
  target: string;
  scheme: "http" | "https";
  metricsPath: string;
  scrapeInterval: string;
  scrapeTimeout: string;
  tlsConfig?: ScrapeTlsConfig;
}

export interface PrometheusConfigInput {
  /** external_labels.monitor, tells this Prometheus apart when its alerts or data leave it. */
  monitorLabel: string;
  globalScrapeInterval: string;
  evaluationInterval: string;
  serving: ServingScrapeJob;
  /** Rule file paths as Prometheus sees them. */
  ruleFiles?: string[];
  /** Prometheus' own address as seen from itself. */
  selfScrapeTarget?: string;
  /** `host:port` of Alertmanagers; no alerting section without them. */
  alertmanagerTargets?: string[];
}

const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** Throws unless the target is a bare `host[:port]`, which is all a static_configs target may be. */
export function checkScrapeTarget(target: string, what = "the serving endpoint's scrape target"): void {
  const fail = (problem: string) => {
    throw new Error(
      `tfserving-platform:deployTarget: ${what} "${target}" ${problem}; Prometheus needs a bare host[:port] ` +
        `(scheme and metrics path are set separately by the scrape job, from tfserving-platform:metricsPath)`,
    );
  };
  if (/\s/.test(target)) fail("contains whitespace");
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)) fail("contains a scheme");
  if (/[/?#]/.test(target)) fail("contains a path");
  const match = HOST_PORT.exec(target);
  if (!match) fail("is not a host name or address with an optional port");
  const port = match![1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) fail("has a port outside 1-65535");
}

function checkDuration(key: string, value: string): number {
  const ms = durationMs(value);
  if (!ms) throw new Error(`tfserving-platform:${key}: "${value}" is not a Prometheus duration such as 5s; set a positive duration`);
  return ms;
}

/**
 * The config input a stack asks for, given where its serving endpoint is scraped. Extra settings
 * (rule file paths, TLS for a test CA, Alertmanager targets) are passed by the caller, never defaulted here.
 */
export function prometheusConfigInput(
  config: StackConfig,
  endpoint: { target: string; scheme: "http" | "https" },
  extra: Pick<PrometheusConfigInput, "ruleFiles" | "selfScrapeTarget" | "alertmanagerTargets"> & { tlsConfig?: ScrapeTlsConfig } = {},
): PrometheusConfigInput {
  const { tlsConfig, ...rest } = extra;
  return {
    monitorLabel: config.prometheusMonitorLabel,
    globalScrapeInterval: config.globalScrapeInterval,
    evaluationInterval: config.evaluationInterval,
    serving: {
      jobName: config.scrapeJobName,
      target: endpoint.target,
      scheme: endpoint.scheme,
      metricsPath: config.metricsPath,
      scrapeInterval: config.scrapeInterval,
      scrapeTimeout: config.scrapeTimeout,
      ...(tlsConfig ? { tlsConfig } : {}),
    },
    ...rest,
  };
}

/** prometheus.yml as an object, for Prometheus 3 (the tests run the default image's release). */
export function prometheusConfig(input: PrometheusConfigInput): Record<string, unknown> {
  const job = input.serving;
  checkScrapeTarget(job.target);
  if (job.jobName === SELF_JOB) throw new Error(`tfserving-platform:scrapeJobName: "${SELF_JOB}" is taken by Prometheus' self-scrape job; choose another name`);
  checkDuration("globalScrapeInterval", input.globalScrapeInterval);
  checkDuration("evaluationInterval", input.evaluationInterval);
  if (checkDuration("scrapeTimeout", job.scrapeTimeout) >= checkDuration("scrapeInterval", job.scrapeInterval)) {
    throw new Error(
      `tfserving-platform:scrapeTimeout: must be shorter than tfserving-platform:scrapeInterval ` +
        `(${job.scrapeTimeout} >= ${job.scrapeInterval}); lower scrapeTimeout or raise scrapeInterval`,
    );
  }
  if (!/^\/\S*$/.test(job.metricsPath)) {
    throw new Error(`tfserving-platform:metricsPath: "${job.metricsPath}" must be an absolute URL path such as /monitoring/prometheus/metrics`);
  }
  for (const target of input.alertmanagerTargets ?? []) checkScrapeTarget(target, "the Alertmanager target");

  return {
    global: {
      scrape_interval: input.globalScrapeInterval,
      evaluation_interval: input.evaluationInterval,
      external_labels: { monitor: input.monitorLabel },
    },
    ...(input.alertmanagerTargets?.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets: input.alertmanagerTargets }] }] } } : {}),
    rule_files: input.ruleFiles ?? [PROMETHEUS_PATHS.rules],
    scrape_configs: [
      // TF Serving answers with a bare `Content-Type: text/plain`, which Prometheus 3 parses as the text
      // format, so the job needs no fallback_scrape_protocol (the end-to-end suite scrapes exactly that).
      {
        job_name: job.jobName,
        scrape_interval: job.scrapeInterval,
        scrape_timeout: job.scrapeTimeout,
        metrics_path: job.metricsPath,
        scheme: job.scheme,
        ...(job.tlsConfig ? { tls_config: job.tlsConfig } : {}),
        static_configs: [{ targets: [job.target] }],
      },
      { job_name: SELF_JOB, static_configs: [{ targets: [input.selfScrapeTarget ?? `localhost:${PROMETHEUS_PORT}`] }] },
    ],
  };
}

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  return stringify(prometheusConfig(input), { lineWidth: 0 });
}
