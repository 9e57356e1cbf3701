import * as fs from "node:fs";
import * as path from "node:path";
import { BatchingParameters, StackConfig } from "../config";
import { STACK_LABEL } from "../shared/dockerLabels";
import { AGENT_LISTEN_PORT, AGENT_PATHS, AgentConfigInput, renderAgentConfig } from "../monitoring/agentConfig";
import { ModelVersion } from "./modelDir";
import { renderCaddyConfig } from "../frontDoor/caddyConfig";
import { EDGE_METRICS_PORT, UPSTREAM_REST_PORT } from "../frontDoor/config";
import { FRONT_DOOR_PATHS, FrontDoorImageSpec } from "../frontDoor/image";

/** Where things live inside the image. */
export const IMAGE_PATHS = {
  modelBasePath: "/models",
  configDir: "/etc/tfserving",
  entrypoint: "/usr/local/bin/tfserving-entrypoint.sh",
} as const;

export const ENTRYPOINT_ASSET = path.join(__dirname, "..", "..", "assets", "tfserving-entrypoint.sh");

/** metricsMode push: a Prometheus agent beside tensorflow_model_server. */
export interface AgentSpec {
  /** The pinned Prometheus image (prometheusImage) the agent binary is copied from (a build stage, no second download path). */
  image: string;
  config: AgentConfigInput;
  /** PEM of the receiver's certificate, trusted by the agent when config.trustReceiverCertificate is set. */
  receiverCertificate?: string;
}

/** The agent a push-mode stack puts in its image: same job, path and interval as a scrape would use. */
export function agentSpec(config: StackConfig, receiverUrl: string, receiverCertificate: string | undefined, modelVersion?: string): AgentSpec {
  return {
    image: config.prometheusImage,
    config: {
      serving: { jobName: config.scrapeJobName, metricsPath: config.servedMetricsPath, scrapeInterval: config.scrapeInterval, scrapeTimeout: config.scrapeTimeout },
      // Behind the front door: TF Serving's internal REST port and the door's own metrics, both on loopback.
      restPort: UPSTREAM_REST_PORT,
      edgeMetricsPort: EDGE_METRICS_PORT,
      receiverUrl,
      trustReceiverCertificate: receiverCertificate !== undefined,
      ...(modelVersion !== undefined ? { modelVersion } : {}),
    },
    receiverCertificate,
  };
}

/** Receiver password variable: set by the deploy (a Railway variable, or the local container's env), never baked in. */
export const RECEIVER_PASSWORD_ENV = "METRICS_RECEIVER_PASSWORD";

export interface ServingImageSpec {
  baseImage: string;
  modelName: string;
  restPort: number;
  grpcPort: number;
  metricsPath: string;
  restApiNumThreads?: number;
  restApiTimeoutMs?: number;
  batching?: BatchingParameters;
  /**
   * os/arch[/variant] of every stage (imagePlatform). In the Dockerfile, not only in the build options, so the
   * context digest, and with it the image tag and the container, follow a change of platform.
   */
  platform?: string;
  agent?: AgentSpec;
  /** Caddy on the public port (PORT), in front of TF Serving on UPSTREAM_REST_PORT. */
  frontDoor: FrontDoorImageSpec;
}

/** TF Serving's MonitoringConfig in protobuf text format: turns on the Prometheus endpoint. */
export function renderMonitoringConfig(metricsPath: string): string {
  return `prometheus_config {\n  enable: true\n  path: ${JSON.stringify(metricsPath)}\n}\n`;
}

/** TF Serving's BatchingParameters in protobuf text format; unset fields keep TF Serving's defaults. */
export function renderBatchingParameters(batching: BatchingParameters): string {
  const fields: [string, number | undefined][] = [
    ["max_batch_size", batching.maxBatchSize],
    ["batch_timeout_micros", batching.batchTimeoutMicros],
    ["max_enqueued_batches", batching.maxEnqueuedBatches],
    ["num_batch_threads", batching.numBatchThreads],
  ];
  return fields
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${field} { value: ${value} }\n`)
    .join("");
}

/** Flags after the fixed ones; the entrypoint receives them as "$@" through CMD. */
export function tuningFlags(spec: ServingImageSpec): string[] {
  const flags: string[] = [];
  if (spec.restApiNumThreads !== undefined) flags.push(`--rest_api_num_threads=${spec.restApiNumThreads}`);
  if (spec.restApiTimeoutMs !== undefined) flags.push(`--rest_api_timeout_in_ms=${spec.restApiTimeoutMs}`);
  if (spec.batching) {
    flags.push("--enable_batching=true", `--batching_parameters_file=${IMAGE_PATHS.configDir}/batching.config`);
  }
  return flags;
}

/** Build argument that carries the stack name into the image's label; unset (an empty label) in a Railway build. */
export const STACK_BUILD_ARG = "TFSERVING_PLATFORM_STACK";

export function renderDockerfile(spec: ServingImageSpec): string {
  const agent = spec.agent;
  const from = spec.platform ? `FROM --platform=${spec.platform}` : "FROM";
  const lines = [
    // The pinned image itself, not a build argument: Railway turns service variables into build args.
    ...(agent ? [`${from} ${agent.image} AS prometheus-agent`] : []),
    `${from} ${spec.frontDoor.image} AS front-door`,
    // The official binary carries cap_net_bind_service=+ep, with which exec fails (EPERM, even as root) where a
    // platform drops capabilities; a plain cp leaves the file capability behind (the door needs no port < 1024).
    `RUN cp ${FRONT_DOOR_PATHS.caddyInImage} ${FRONT_DOOR_PATHS.caddyCopy}`,
    `${from} ${spec.baseImage}`,
    `ENV MODEL_NAME=${spec.modelName} \\`,
    `    MODEL_BASE_PATH=${IMAGE_PATHS.modelBasePath} \\`,
    `    REST_PORT=${spec.restPort} \\`,
    `    PORT=${spec.restPort} \\`,
    `    UPSTREAM_REST_PORT=${UPSTREAM_REST_PORT} \\`,
    `    FRONT_DOOR_CONFIG_FILE=${FRONT_DOOR_PATHS.config} \\`,
    // JSON quoting is Dockerfile quoting for these names (letters, digits, underscores, spaces).
    `    FRONT_DOOR_REQUIRED_ENV=${JSON.stringify(spec.frontDoor.requiredEnv.join(" "))} \\`,
    `    GRPC_PORT=${spec.grpcPort} \\`,
    `    MONITORING_CONFIG_FILE=${IMAGE_PATHS.configDir}/monitoring.config` + (agent ? " \\" : ""),
    ...(agent
      ? [
          "    METRICS_MODE=push \\",
          `    AGENT_CONFIG_FILE=${AGENT_PATHS.config} \\`,
          `    AGENT_DATA_DIR=${AGENT_PATHS.dataDir} \\`,
          `    AGENT_PASSWORD_FILE=${AGENT_PATHS.passwordFile} \\`,
          `    AGENT_LISTEN_ADDRESS=127.0.0.1:${AGENT_LISTEN_PORT}`,
          "COPY --from=prometheus-agent /bin/prometheus /usr/local/bin/prometheus",
        ]
      : []),
    `COPY --from=front-door ${FRONT_DOOR_PATHS.caddyCopy} ${FRONT_DOOR_PATHS.binary}`,
    `COPY config/ ${IMAGE_PATHS.configDir}/`,
    `COPY tfserving-entrypoint.sh ${IMAGE_PATHS.entrypoint}`,
    // chmod in the image: a checkout on Windows does not keep the executable bit.
    `RUN chmod 0755 ${IMAGE_PATHS.entrypoint}`,
    `COPY model/ ${IMAGE_PATHS.modelBasePath}/${spec.modelName}/`,
    `EXPOSE ${spec.grpcPort} ${spec.restPort}`,
    `ENTRYPOINT ${JSON.stringify([IMAGE_PATHS.entrypoint])}`,
    `CMD ${JSON.stringify(tuningFlags(spec))}`,
    // Last, so a different stack name changes no layer, only the image's metadata.
    `ARG ${STACK_BUILD_ARG}`,
    `LABEL ${STACK_LABEL}=$${STACK_BUILD_ARG}`,
  ];
  return lines.join("\n") + "\n";
}

/** Everything but the files the Dockerfile copies stays out of the build (and out of a Railway upload). */
export const DOCKERIGNORE = ["*", "!Dockerfile", "!config/", "!tfserving-entrypoint.sh", "!model/"].join("\n") + "\n";

/** The small rendered files of the context, keyed by relative path. The model is linked in separately. */
export function renderContextFiles(spec: ServingImageSpec, entrypointScript: string): Record<string, string> {
  const files: Record<string, string> = {
    Dockerfile: renderDockerfile(spec),
    ".dockerignore": DOCKERIGNORE,
    "tfserving-entrypoint.sh": entrypointScript,
    "config/monitoring.config": renderMonitoringConfig(spec.metricsPath),
    [`config/${path.posix.basename(FRONT_DOOR_PATHS.config)}`]: renderCaddyConfig(spec.frontDoor.config),
  };
  if (spec.batching) files["config/batching.config"] = renderBatchingParameters(spec.batching);
  if (spec.agent) {
    files[`config/${path.posix.basename(AGENT_PATHS.config)}`] = renderAgentConfig(spec.agent.config);
    if (spec.agent.config.trustReceiverCertificate) {
      if (!spec.agent.receiverCertificate) throw new Error("tfserving-platform:receiverTlsCertFile: the agent is to trust the receiver's certificate, but none was read");
      files[`config/${path.posix.basename(AGENT_PATHS.receiverCa)}`] = spec.agent.receiverCertificate;
    }
  }
  return files;
}

/**
 * Lays out the build context in contextDir: rendered files, then each model version under model/.
 * Model files are hard-linked when the file system allows it (no copy of a large model), copied
 * otherwise, and left alone when already in place. Files no longer planned are removed.
 */
export function writeBuildContext(contextDir: string, files: Record<string, string>, versions: ModelVersion[]): void {
  const planned = new Set<string>();
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(contextDir, relative);
    planned.add(path.normalize(target));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== content) fs.writeFileSync(target, content);
  }
  for (const version of versions) linkTree(version.dir, path.join(contextDir, "model", version.version), planned);
  removeUnplanned(contextDir, planned);
}

function linkTree(sourceDir: string, targetDir: string, planned: Set<string>): void {
  fs.mkdirSync(targetDir, { recursive: true });
  for (const entry of fs.readdirSync(sourceDir, { withFileTypes: true })) {
    const source = path.join(sourceDir, entry.name);
    const target = path.join(targetDir, entry.name);
    if (entry.isDirectory()) {
      linkTree(source, target, planned);
      continue;
    }
    if (!entry.isFile()) continue;
    planned.add(path.normalize(target));
    const sourceStat = fs.statSync(source);
    const targetStat = fs.statSync(target, { throwIfNoEntry: false });
    if (targetStat && targetStat.ino === sourceStat.ino && targetStat.dev === sourceStat.dev) continue;
    if (targetStat && targetStat.size === sourceStat.size && targetStat.mtimeMs === sourceStat.mtimeMs) continue;
    if (targetStat) fs.rmSync(target);
    try {
      fs.linkSync(source, target);
    } catch {
      fs.copyFileSync(source, target);
      fs.utimesSync(target, sourceStat.atime, sourceStat.mtime);
    }
  }
}

function removeUnplanned(dir: string, planned: Set<string>): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeUnplanned(full, planned);
      if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
    } else if (!planned.has(path.normalize(full))) {
      fs.rmSync(full);
    }
  }
}
