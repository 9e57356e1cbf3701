import { createHash } from "node:crypto";
import { isIP } from "node:net";
import * as path from "node:path";
import { z } from "zod";
import { DEFAULT_IMAGES } from "./versions";

/** Pulumi project name; every config key lives under this namespace. */
export const PROJECT = "tfserving-platform";

export { DEFAULT_IMAGES };

/**
 * The demo model committed with the project (see the README's "Demo model"): what `dev` serves when
 * modelDir is not set. A railway stack never serves it.
 */
export const BUNDLED_MODEL_DIR = "models/diabetes-prediction";

/** Keys whose values must be Pulumi secrets; read with getSecret, never through the plain schema. */
export const SECRET_KEYS = ["railwayToken", "alertmanagerWebhookUrl", "receiverTlsKey", "remoteWritePassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** Name of Prometheus' self-scrape job; the TF Serving job must not take it. */
export const PROMETHEUS_SELF_JOB = "prometheus";

/** Push mode: the agent's own web server in the serving container (loopback); TF Serving's ports must differ. */
export const AGENT_LISTEN_PORT = 9095;

/** True for an absolute http(s) URL (the webhook check; callers never echo the value, it may be a secret). */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const PROMETHEUS_DURATION = /^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/;
const UNIT_MS: Record<string, number> = { y: 31536000000, w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };

/** Milliseconds in a Prometheus duration such as `1m30s`; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  if (text === "" || !PROMETHEUS_DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(amount) * UNIT_MS[unit];
  return total;
}

/**
 * An image reference with an explicit tag other than `latest` (a digest also pins it).
 * Returns a problem description, or undefined when the reference is pinned.
 */
export function imagePinProblem(ref: string): string | undefined {
  if (/\s/.test(ref) || ref === "") return "is not an image reference";
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return undefined;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "has no tag, so every build could pull a different image";
  const tag = lastSegment.slice(colon + 1);
  if (tag === "latest") return "uses the moving `latest` tag";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `has an invalid tag "${tag}"`;
  return undefined;
}

const fromText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value), schema);
const number = () => z.number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number" : undefined) });
const integer = (min: number, max: number) =>
  fromText(number().int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const positiveNumber = fromText(number().positive("must be greater than 0"));
const port = integer(1, 65535);
const bool = z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean({ error: "must be true or false" }));
const duration = z.string().refine((text) => (durationMs(text) ?? 0) > 0, "must be a Prometheus duration such as 15s, 1m or 1h30m");
const pinnedImage = z.string().superRefine((ref, ctx) => {
  const problem = imagePinProblem(ref);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem}; pin an exact tag such as ${DEFAULT_IMAGES.tfServing}` });
});

/** Every plain (non-secret) key, its type and its default. The README and Pulumi.yaml document the same set. */
export const plainConfigSchema = z
  .object({
    // --- serving ---
    modelName: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be lowercase letters, digits and single dashes, e.g. diabetes-prediction")
      .default("diabetes-prediction"),
    // Optional for deployTarget local (defaults to BUNDLED_MODEL_DIR); required for railway, checked below.
    modelDir: z.string().min(1, "must not be empty").optional(),
    deployTarget: z.enum(["local", "railway"], { error: "must be `local` (Docker on this machine) or `railway`" }).default("local"),
    tfServingImage: pinnedImage.default(DEFAULT_IMAGES.tfServing),
    restPort: port.default(8501),
    grpcPort: port.default(8500),
    metricsPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be an absolute URL path such as /monitoring/prometheus/metrics")
      .default("/monitoring/prometheus/metrics"),
    restApiNumThreads: integer(1, 1024).optional(),
    restApiTimeoutMs: integer(1, 3_600_000).optional(),
    enableBatching: bool.default(false),
    batchMaxBatchSize: integer(1, 1_000_000).optional(),
    batchTimeoutMicros: integer(0, 60_000_000).optional(),
    batchMaxEnqueuedBatches: integer(1, 100_000_000).optional(),
    batchNumBatchThreads: integer(1, 1024).optional(),
    readinessTimeoutSeconds: integer(10, 3600).default(600),
    hostBindAddress: z.string().refine((text) => isIP(text) !== 0, "must be an IP address such as 127.0.0.1 (no host name, no brackets)").default("127.0.0.1"),
    servingHostPort: port.optional(),
    // --- railway ---
    railwayService: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be the Railway service name or id").optional(),
    railwayEnvironment: z.string().min(1).default("production"),
    railwayProjectId: z.string().min(1).optional(),
    railwayCli: z.string().min(1).default("railway"),
    // --- prometheus ---
    prometheusImage: pinnedImage.default(DEFAULT_IMAGES.prometheus),
    prometheusHostPort: port.default(9090),
    prometheusRetention: z
      .string()
      .refine((text) => (durationMs(text) ?? 0) >= 3_600_000, "must be a duration of at least 1h, such as 15d")
      .default("15d"),
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
    errorRatioThreshold: fromText(number().gt(0, "must be above 0").lt(1, "must be below 1 (a ratio, 0.05 = 5%)")).default(0.05),
    errorRatioFor: duration.default("5m"),
    latencyP95ThresholdMs: positiveNumber.default(500),
    latencyFor: duration.default("5m"),
    alertmanagerImage: pinnedImage.default(DEFAULT_IMAGES.alertmanager),
    alertmanagerHostPort: port.default(9093),
    // --- grafana ---
    grafanaImage: pinnedImage.default(DEFAULT_IMAGES.grafana),
    grafanaHostPort: port.default(3000),
    grafanaAdminUser: z.string().regex(/^[A-Za-z0-9_.@-]+$/, "must be a plain user name").default("admin"),
    dashboardTitle: z.string().min(1).optional(),
    // --- push mode and the remote-write receiver ---
    metricsMode: z.enum(["scrape", "push"], { error: "must be `scrape` (Prometheus scrapes one endpoint) or `push` (an agent in every replica pushes)" }).default("scrape"),
    receiverUrl: z.string().refine(isHttpUrl, "must be an http(s) URL such as https://metrics.example.com/api/v1/write").optional(),
    receiverHostPort: port.optional(),
    receiverBindAddress: z.string().refine((text) => isIP(text) !== 0, "must be an IP address such as 0.0.0.0").default("0.0.0.0"),
    receiverTlsCertFile: z.string().min(1, "must not be empty").optional(),
    // --- forwarding to a distributed store ---
    remoteWriteUrl: z.string().refine(isHttpUrl, "must be an http(s) URL such as https://mimir.example.com/api/v1/push").optional(),
    remoteWriteUsername: z.string().min(1, "must not be empty").optional(),
    remoteWriteHeaders: z
      .preprocess(
        (value) => {
          if (typeof value !== "string") return value;
          try {
            return JSON.parse(value);
          } catch {
            return value;
          }
        },
        z.record(z.string().regex(/^[A-Za-z0-9-]+$/, "header names are letters, digits and -"), z.string(), {
          error: 'must be a JSON object of header names to strings, e.g. {"X-Scope-OrgID":"team-a"}',
        }),
      )
      .optional(),
  })
  .strict();

export type PlainConfig = z.infer<typeof plainConfigSchema>;
export type ConfigKey = keyof PlainConfig | SecretKey;
export const PLAIN_KEYS = Object.keys(plainConfigSchema.shape) as (keyof PlainConfig)[];

export interface BatchingParameters {
  maxBatchSize?: number;
  batchTimeoutMicros?: number;
  maxEnqueuedBatches?: number;
  numBatchThreads?: number;
}

/** Validated, normalised config the components consume. */
export interface StackConfig extends PlainConfig {
  stack: string;
  /** As set, or BUNDLED_MODEL_DIR for a local stack that does not set it. */
  modelDir: string;
  /** modelDir resolved against the project folder. */
  modelDirAbsolute: string;
  scrapeJobName: string;
  scrapeTimeout: string;
  dashboardTitle: string;
  /** Set only when enableBatching is true. */
  batching?: BatchingParameters;
  /**
   * The path TF Serving serves its metrics at: metricsPath, plus in push mode on Railway a suffix nobody can
   * guess (see servedMetricsPath), since the public domain answers every path of the REST port.
   */
  servedMetricsPath: string;
  /** receiverTlsCertFile resolved against the project folder. */
  receiverTlsCertFileAbsolute?: string;
  /** Which secret keys the stack has set (their values stay in Pulumi secrets). */
  secretsPresent: Record<SecretKey, boolean>;
}

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/** `diabetes-prediction` -> `Diabetes_Prediction-monitoring`, the title of the hand-built dashboard. */
export function defaultDashboardTitle(modelName: string): string {
  const words = modelName.split("-").map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return `${words.join("_")}-monitoring`;
}

const key = (name: string) => `${PROJECT}:${name}`;
const setHint = (name: string, example: string) => `run \`pulumi config set ${key(name)} ${example}\``;

export interface ConfigInput {
  stack: string;
  projectDir: string;
  /** Raw values of this project's keys, without the namespace (Pulumi config values are strings). */
  values: Record<string, string | undefined>;
}

/**
 * Validates the whole stack configuration at once and reports every problem in a single error,
 * each naming the key as the user types it and what to do about it.
 */
export function parseStackConfig({ stack, projectDir, values }: ConfigInput): StackConfig {
  const problems: string[] = [];
  // An empty secret counts as unset: an empty token would only fail later, inside the deploy.
  const secretsPresent = Object.fromEntries(SECRET_KEYS.map((name) => [name, (values[name] ?? "") !== ""])) as Record<SecretKey, boolean>;
  const plainValues: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || (SECRET_KEYS as readonly string[]).includes(name)) continue;
    plainValues[name] = value;
  }

  const parsed = plainConfigSchema.safeParse(plainValues);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const unknown of issue.keys) {
          const suggestion = PLAIN_KEYS.find((known) => known.toLowerCase() === unknown.toLowerCase());
          problems.push(
            `${key(unknown)}: unknown key${suggestion ? `; did you mean ${key(suggestion)}?` : ""} ` +
              `(remove it with \`pulumi config rm ${key(unknown)}\`; the README lists every key)`,
          );
        }
        continue;
      }
      const name = String(issue.path[0]);
      const shown = plainValues[name] === undefined ? "" : ` (got "${plainValues[name]}")`;
      const example = name === "modelDir" ? "./serving_model/diabetes-prediction" : "<value>";
      problems.push(`${key(name)}: ${issue.message}${shown}; ${setHint(name, example)}`);
    }
    throw new StackConfigError(problems);
  }
  const plain = parsed.data;

  if (plain.restPort === plain.grpcPort) {
    problems.push(`${key("grpcPort")}: must differ from ${key("restPort")} (both are ${plain.restPort}); ${setHint("grpcPort", "8500")}`);
  }

  const batchingValues: BatchingParameters = {
    maxBatchSize: plain.batchMaxBatchSize,
    batchTimeoutMicros: plain.batchTimeoutMicros,
    maxEnqueuedBatches: plain.batchMaxEnqueuedBatches,
    numBatchThreads: plain.batchNumBatchThreads,
  };
  const batchKeysSet = PLAIN_KEYS.filter((name) => name.startsWith("batch") && plain[name] !== undefined);
  if (!plain.enableBatching && batchKeysSet.length > 0) {
    problems.push(
      `${batchKeysSet.map(key).join(", ")}: batching parameters are set but ${key("enableBatching")} is false, ` +
        `and TF Serving refuses to start that way; ${setHint("enableBatching", "true")} or remove the parameters`,
    );
  }

  const modelDir = plain.modelDir ?? (plain.deployTarget === "local" ? BUNDLED_MODEL_DIR : undefined);
  if (plain.deployTarget === "railway") {
    // Production never picks up the demo model by default or by accident.
    if (modelDir === undefined) {
      problems.push(
        `${key("modelDir")}: is required when deployTarget is railway: the TFX Pusher output folder that holds numeric version folders ` +
          `(the bundled demo model is for dev only); ${setHint("modelDir", "./serving_model/diabetes-prediction")}`,
      );
    } else if (path.resolve(projectDir, modelDir) === path.resolve(projectDir, BUNDLED_MODEL_DIR)) {
      problems.push(
        `${key("modelDir")}: "${modelDir}" is the bundled demo model, which is not for production (README, "Demo model"); ` +
          `point it at your own TFX Pusher output: ${setHint("modelDir", "./serving_model/diabetes-prediction")}`,
      );
    }
    if (!plain.railwayService) problems.push(`${key("railwayService")}: is required when deployTarget is railway; ${setHint("railwayService", "<service name>")}`);
    if (!secretsPresent.railwayToken) {
      problems.push(`${key("railwayToken")}: is required when deployTarget is railway; run \`pulumi config set --secret ${key("railwayToken")} <token>\``);
    }
  }

  // Checked here rather than when prometheus.yml is rendered: in prod that happens only after the Railway
  // deploy (the scrape target is its output), so `pulumi preview` would pass and `pulumi up` fail half-way.
  if (plain.scrapeJobName === PROMETHEUS_SELF_JOB) {
    problems.push(
      `${key("scrapeJobName")}: "${PROMETHEUS_SELF_JOB}" is taken by Prometheus' self-scrape job; ${setHint("scrapeJobName", "tf-serving-railway")}`,
    );
  }
  // The value is a secret: the message describes it without echoing it.
  if (secretsPresent.alertmanagerWebhookUrl && !isHttpUrl(values.alertmanagerWebhookUrl!)) {
    problems.push(
      `${key("alertmanagerWebhookUrl")}: must be an http(s) URL; ` +
        `run \`pulumi config set --secret ${key("alertmanagerWebhookUrl")} https://<receiver>/<path>\``,
    );
  }

  problems.push(...receiverProblems(plain, secretsPresent));

  const scrapeTimeout = plain.scrapeTimeout ?? defaultScrapeTimeout(plain.scrapeInterval);
  if ((durationMs(scrapeTimeout) ?? 0) >= (durationMs(plain.scrapeInterval) ?? 0)) {
    problems.push(
      `${key("scrapeTimeout")}: must be shorter than ${key("scrapeInterval")} (${scrapeTimeout} >= ${plain.scrapeInterval}); ` +
        setHint("scrapeTimeout", "4s"),
    );
  }

  if (problems.length > 0 || modelDir === undefined) throw new StackConfigError(problems);

  return {
    ...plain,
    stack,
    modelDir,
    modelDirAbsolute: path.resolve(projectDir, modelDir),
    scrapeJobName: plain.scrapeJobName ?? `tf-serving-${plain.deployTarget}`,
    scrapeTimeout,
    dashboardTitle: plain.dashboardTitle ?? defaultDashboardTitle(plain.modelName),
    batching: plain.enableBatching ? batchingValues : undefined,
    servedMetricsPath: servedMetricsPath(plain, stack, values.railwayToken),
    receiverTlsCertFileAbsolute: plain.receiverTlsCertFile === undefined ? undefined : path.resolve(projectDir, plain.receiverTlsCertFile),
    secretsPresent,
  };
}

/**
 * In push mode on Railway nothing outside the replica needs TF Serving's metrics, but TF Serving serves
 * them on the public REST port and cannot bind them elsewhere. So the path gets a per-stack suffix
 * derived from the Railway token, the stack and the service (SHA-256 with its own prefix, so the suffix
 * reveals nothing about the token): stable across previews, different for two stacks sharing a token,
 * known only to the image's agent and whoever holds the stack's secrets, and changed with the token.
 */
function servedMetricsPath(plain: PlainConfig, stack: string, railwayToken: string | undefined): string {
  if (plain.metricsMode !== "push" || plain.deployTarget !== "railway" || !railwayToken) return plain.metricsPath;
  const seed = ["tfserving-platform metrics path", stack, plain.railwayService ?? "", railwayToken].join("\0");
  const suffix = createHash("sha256").update(seed).digest("hex").slice(0, 32);
  return `${plain.metricsPath.replace(/\/+$/, "")}/${suffix}`;
}

/** The keys of push mode, the receiver and forwarding only make sense together; each problem names its key. */
function receiverProblems(plain: PlainConfig, secretsPresent: Record<SecretKey, boolean>): string[] {
  const problems: string[] = [];
  const push = plain.metricsMode === "push";
  const tls = plain.receiverTlsCertFile !== undefined;
  if (tls !== secretsPresent.receiverTlsKey) {
    problems.push(
      tls
        ? `${key("receiverTlsKey")}: is required with ${key("receiverTlsCertFile")}; run \`pulumi config set --secret ${key("receiverTlsKey")} -- "$(cat tls.key)"\``
        : `${key("receiverTlsCertFile")}: is required with ${key("receiverTlsKey")}; ${setHint("receiverTlsCertFile", "./tls/receiver.crt")}`,
    );
  }
  for (const name of ["restPort", "grpcPort"] as const) {
    if (push && plain[name] === AGENT_LISTEN_PORT) {
      problems.push(`${key(name)}: ${AGENT_LISTEN_PORT} is the port of the Prometheus agent in push mode; ${setHint(name, name === "restPort" ? "8501" : "8500")}`);
    }
  }
  const receiverKeys = (["receiverUrl", "receiverHostPort", "receiverTlsCertFile"] as const).filter((name) => plain[name] !== undefined);
  if (!push && receiverKeys.length > 0) {
    problems.push(
      `${receiverKeys.map(key).join(", ")}: configure the remote-write receiver, which exists only in push mode; ` +
        `${setHint("metricsMode", "push")} or remove them`,
    );
  }
  if (push && plain.deployTarget === "railway" && plain.receiverUrl === undefined) {
    problems.push(
      `${key("receiverUrl")}: is required when metricsMode is push and deployTarget is railway: the URL at which Railway replicas reach ` +
        `this Prometheus (your reverse proxy, or this host's public name with receiverHostPort); ${setHint("receiverUrl", "https://metrics.example.com/api/v1/write")}`,
    );
  }
  if (push && tls && plain.receiverUrl === undefined) {
    problems.push(
      `${key("receiverUrl")}: is required with ${key("receiverTlsCertFile")}: the agents check the certificate against the host they dial, ` +
        `and without receiverUrl that is the Prometheus container's name; ${setHint("receiverUrl", "https://metrics.example.com:9443/api/v1/write")}`,
    );
  }
  if (plain.receiverHostPort !== undefined && !tls) {
    problems.push(
      `${key("receiverHostPort")}: publishing the receiver needs TLS, or its password travels in clear text; ` +
        `set ${key("receiverTlsCertFile")} and ${key("receiverTlsKey")}, or publish it through a TLS reverse proxy instead`,
    );
  }
  if (push && plain.deployTarget === "railway" && plain.receiverUrl?.startsWith("http:")) {
    problems.push(`${key("receiverUrl")}: must be https when replicas push across the internet; ${setHint("receiverUrl", "https://metrics.example.com/api/v1/write")}`);
  }
  const forwarding = plain.remoteWriteUrl !== undefined;
  const forwardingKeys = (["remoteWriteUsername", "remoteWriteHeaders"] as const).filter((name) => plain[name] !== undefined);
  if (!forwarding && (forwardingKeys.length > 0 || secretsPresent.remoteWritePassword)) {
    const named = [...forwardingKeys.map(key), ...(secretsPresent.remoteWritePassword ? [key("remoteWritePassword")] : [])];
    problems.push(`${named.join(", ")}: forwarding settings without ${key("remoteWriteUrl")}; ${setHint("remoteWriteUrl", "https://mimir.example.com/api/v1/push")} or remove them`);
  }
  if ((plain.remoteWriteUsername !== undefined) !== secretsPresent.remoteWritePassword && forwarding) {
    problems.push(
      plain.remoteWriteUsername === undefined
        ? `${key("remoteWriteUsername")}: is required with ${key("remoteWritePassword")} (basic auth); ${setHint("remoteWriteUsername", "<user or tenant id>")}`
        : `${key("remoteWritePassword")}: is required with ${key("remoteWriteUsername")}; run \`pulumi config set --secret ${key("remoteWritePassword")} <password>\``,
    );
  }
  return problems;
}

/** 80% of the scrape interval, rounded down to whole milliseconds, so a slow target times out before the next scrape. */
function defaultScrapeTimeout(scrapeInterval: string): string {
  const timeoutMs = Math.max(1, Math.floor((durationMs(scrapeInterval) ?? 0) * 0.8));
  return timeoutMs % 1000 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`;
}
