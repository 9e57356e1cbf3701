import { stringify } from "yaml";
import { PROMETHEUS_SELF_JOB, StackConfig, durationMs } from "../config/stackConfig";
import { MODEL_VERSION_LABEL } from "./promql";
import { RECEIVER_PATHS, RECEIVER_USER } from "./receiverConfig";

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

/** Tells the front door's series (its `up`) apart from TF Serving's in the same job. */
export const EDGE_COMPONENT_LABEL = { name: "component", value: "edge" } as const;

/**
 * The front door's own metrics as a second target of the TF Serving job: its own path, and a `component`
 * label, so its `up` series stays apart from TF Serving's where both share one address (scrape mode).
 */
export function edgeMetricsTarget(target: string, metricsPath: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { targets: [target], labels: { ...labels, __metrics_path__: metricsPath, [EDGE_COMPONENT_LABEL.name]: EDGE_COMPONENT_LABEL.value } };
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
  /** The version TF Serving serves, put on every scraped series as `model_version` (TF Serving exports none). */
  modelVersion?: string;
  /** The front door: its scrape credential (a file in the Prometheus container) and where it serves its own metrics. */
  frontDoor?: { credentialsFile: string; edgeMetricsPath: string };
}

/** Forwarding everything this Prometheus stores to a distributed store (remoteWrite* config keys). */
export interface RemoteWriteTarget {
  url: string;
  /** Basic auth; the password is read from a file uploaded as a secret. */
  basicAuth?: { username: string; passwordFile: string };
  /** Extra headers, e.g. Mimir's X-Scope-OrgID tenant. */
  headers?: Record<string, string>;
}

/** Push mode: this Prometheus is the agents' receiver, so its own endpoints need the receiver's login. */
export interface ReceiverSelfAccess {
  /** The web config serves https; the self-scrape skips verification of its own certificate on localhost. */
  tls: boolean;
}

export interface PrometheusConfigInput {
  /** external_labels.monitor, tells this Prometheus apart when its alerts or data leave it. */
  monitorLabel: string;
  globalScrapeInterval: string;
  evaluationInterval: string;
  /** Our scrape of TF Serving; absent in push mode, where every replica's agent pushes instead. */
  serving?: ServingScrapeJob;
  /** Set in push mode: the self-scrape logs in (and uses https) like every other client of the receiver. */
  receiver?: ReceiverSelfAccess;
  remoteWrite?: RemoteWriteTarget;
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
  /** Where to scrape TF Serving; undefined in push mode. */
  endpoint: { target: string; scheme: "http" | "https" } | undefined,
  extra: Pick<PrometheusConfigInput, "ruleFiles" | "selfScrapeTarget" | "alertmanagerTargets" | "receiver" | "remoteWrite"> & {
    tlsConfig?: ScrapeTlsConfig;
    modelVersion?: string;
    frontDoor?: ServingScrapeJob["frontDoor"];
  } = {},
): PrometheusConfigInput {
  const { tlsConfig, modelVersion, frontDoor, ...rest } = extra;
  return {
    monitorLabel: config.prometheusMonitorLabel,
    globalScrapeInterval: config.globalScrapeInterval,
    evaluationInterval: config.evaluationInterval,
    ...(endpoint
      ? {
          serving: {
            jobName: config.scrapeJobName,
            target: endpoint.target,
            scheme: endpoint.scheme,
            metricsPath: config.metricsPath,
            scrapeInterval: config.scrapeInterval,
            scrapeTimeout: config.scrapeTimeout,
            ...(tlsConfig ? { tlsConfig } : {}),
            ...(modelVersion !== undefined ? { modelVersion } : {}),
            ...(frontDoor ? { frontDoor } : {}),
          },
        }
      : {}),
    ...rest,
  };
}

/** Throws, naming the key, unless the forwarding target is an http(s) URL with plain header names. */
export function checkRemoteWrite(target: RemoteWriteTarget): void {
  let url: URL | undefined;
  try {
    url = new URL(target.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new Error(`tfserving-platform:remoteWriteUrl: "${target.url}" must be an http(s) URL such as https://mimir.example.com/api/v1/push`);
  }
  for (const name of Object.keys(target.headers ?? {})) {
    // Prometheus refuses to let a config set these; say so before it does.
    if (/^(authorization|content-type|content-encoding|user-agent|x-prometheus-remote-write-version)$/i.test(name)) {
      throw new Error(`tfserving-platform:remoteWriteHeaders: Prometheus sets the header ${name} itself; remove it (use remoteWriteUsername/remoteWritePassword for auth)`);
    }
  }
}

/** prometheus.yml as an object, for Prometheus 3 (the tests run the default image's release). */
export function prometheusConfig(input: PrometheusConfigInput): Record<string, unknown> {
  checkDuration("globalScrapeInterval", input.globalScrapeInterval);
  checkDuration("evaluationInterval", input.evaluationInterval);
  for (const target of input.alertmanagerTargets ?? []) checkScrapeTarget(target, "the Alertmanager target");
  if (input.remoteWrite) checkRemoteWrite(input.remoteWrite);
  const receiver = input.receiver;
  const selfJob = {
    job_name: SELF_JOB,
    ...(receiver
      ? {
          ...(receiver.tls ? { scheme: "https", tls_config: { insecure_skip_verify: true } } : {}),
          basic_auth: { username: RECEIVER_USER, password_file: RECEIVER_PATHS.password },
        }
      : {}),
    static_configs: [{ targets: [input.selfScrapeTarget ?? `localhost:${PROMETHEUS_PORT}`] }],
  };
  return {
    global: {
      scrape_interval: input.globalScrapeInterval,
      evaluation_interval: input.evaluationInterval,
      external_labels: { monitor: input.monitorLabel },
    },
    ...(input.alertmanagerTargets?.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets: input.alertmanagerTargets }] }] } } : {}),
    rule_files: input.ruleFiles ?? [PROMETHEUS_PATHS.rules],
    scrape_configs: [...(input.serving ? [servingScrapeConfig(input.serving)] : []), selfJob],
    ...(input.remoteWrite ? { remote_write: [remoteWriteConfig(input.remoteWrite)] } : {}),
  };
}

function remoteWriteConfig(target: RemoteWriteTarget): Record<string, unknown> {
  return {
    url: target.url,
    // Remote write 1.0: Mimir, Thanos Receive and VictoriaMetrics all accept it; 2.0 is still experimental.
    protobuf_message: "prometheus.WriteRequest",
    ...(target.basicAuth ? { basic_auth: { username: target.basicAuth.username, password_file: target.basicAuth.passwordFile } } : {}),
    ...(target.headers && Object.keys(target.headers).length > 0 ? { headers: target.headers } : {}),
  };
}

/**
 * Our scrape of TF Serving (scrape mode). TF Serving answers with a bare `Content-Type: text/plain`, which
 * Prometheus 3 parses as the text format, so the job needs no fallback_scrape_protocol (the end-to-end suite
 * scrapes exactly that).
 */
function servingScrapeConfig(job: ServingScrapeJob): Record<string, unknown> {
  checkScrapeTarget(job.target);
  if (job.jobName === SELF_JOB) throw new Error(`tfserving-platform:scrapeJobName: "${SELF_JOB}" is taken by Prometheus' self-scrape job; choose another name`);
  if (checkDuration("scrapeTimeout", job.scrapeTimeout) >= checkDuration("scrapeInterval", job.scrapeInterval)) {
    throw new Error(
      `tfserving-platform:scrapeTimeout: must be shorter than tfserving-platform:scrapeInterval ` +
        `(${job.scrapeTimeout} >= ${job.scrapeInterval}); lower scrapeTimeout or raise scrapeInterval`,
    );
  }
  if (!/^\/\S*$/.test(job.metricsPath)) {
    throw new Error(`tfserving-platform:metricsPath: "${job.metricsPath}" must be an absolute URL path such as /monitoring/prometheus/metrics`);
  }
  // A target label reaches every series of the scrape, `up` included; a deploy of another version starts new series.
  const versionLabels = job.modelVersion === undefined ? undefined : { [MODEL_VERSION_LABEL]: job.modelVersion };
  return {
    job_name: job.jobName,
    scrape_interval: job.scrapeInterval,
    scrape_timeout: job.scrapeTimeout,
    metrics_path: job.metricsPath,
    scheme: job.scheme,
    ...(job.tlsConfig ? { tls_config: job.tlsConfig } : {}),
    // Through the front door, with its scrape credential; the door's own metrics join the job.
    ...(job.frontDoor ? { authorization: { type: "Bearer", credentials_file: job.frontDoor.credentialsFile } } : {}),
    static_configs: [
      { targets: [job.target], ...(versionLabels ? { labels: versionLabels } : {}) },
      ...(job.frontDoor ? [edgeMetricsTarget(job.target, job.frontDoor.edgeMetricsPath, versionLabels)] : []),
    ],
  };
}

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  return stringify(prometheusConfig(input), { lineWidth: 0 });
}
