import { stringify } from "yaml";
import { AGENT_LISTEN_PORT } from "../config/stackConfig";
import { INTERNAL_METRICS_PATH } from "../frontDoor/caddyConfig";
import { ServingScrapeJob, checkScrapeTarget, edgeMetricsTarget } from "./prometheusConfig";
import { MODEL_VERSION_LABEL } from "./promql";
import { RECEIVER_USER } from "./receiverConfig";

/**
 * The Prometheus agent inside the serving image (metricsMode push). Paths are in the serving image;
 * the entrypoint writes the receiver password file from METRICS_RECEIVER_PASSWORD before starting the agent.
 */
export const AGENT_PATHS = {
  config: "/etc/tfserving/agent.yml",
  /** The receiver's certificate, trusted by the agent when the receiver serves TLS itself. */
  receiverCa: "/etc/tfserving/receiver-ca.crt",
  /** Write-ahead log and the password file; the entrypoint creates it. */
  dataDir: "/tmp/tfserving-agent",
  passwordFile: "/tmp/tfserving-agent/receiver.password",
} as const;

/** The agent's own web server (its /metrics shows failed samples); loopback only, beside TF Serving's ports. */
export { AGENT_LISTEN_PORT };

/**
 * Environment variables the entrypoint exports for external_labels, the only place Prometheus expands
 * `${VAR}`: Railway's replica id and region, or the container's hostname and `local` elsewhere.
 */
export const AGENT_LABEL_ENV = { replica: "TFSERVING_REPLICA", region: "TFSERVING_REGION" } as const;

export interface AgentConfigInput {
  /** The same job as our Prometheus' scrape job in scrape mode, so rules and dashboards read one job name. */
  serving: Omit<ServingScrapeJob, "target" | "scheme" | "tlsConfig">;
  /** TF Serving's REST port inside the container; the agent scrapes it on loopback. */
  restPort: number;
  /** The front door's loopback metrics port: Caddy's own metrics join the same job (the image always sets it). */
  edgeMetricsPort?: number;
  /** The receiver's remote-write URL, e.g. https://metrics.example.com/api/v1/write. */
  receiverUrl: string;
  /** Trust the receiver's own certificate (receiverTlsCertFile) instead of the system roots. */
  trustReceiverCertificate: boolean;
  /** The version TF Serving serves in this image, put on every pushed series as `model_version`. */
  modelVersion?: string;
}

/** The agent's prometheus.yml as an object: scrape the local server, remote-write 1.0 with basic auth. */
export function agentConfig(input: AgentConfigInput): Record<string, unknown> {
  const target = `127.0.0.1:${input.restPort}`;
  checkScrapeTarget(target);
  let url: URL;
  try {
    url = new URL(input.receiverUrl);
  } catch {
    throw new Error(`tfserving-platform:receiverUrl: "${input.receiverUrl}" is not a URL; set it to e.g. https://metrics.example.com/api/v1/write`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`tfserving-platform:receiverUrl: "${input.receiverUrl}" must be http(s)`);
  }
  const job = input.serving;
  return {
    global: {
      scrape_interval: job.scrapeInterval,
      scrape_timeout: job.scrapeTimeout,
      external_labels: {
        replica: `\${${AGENT_LABEL_ENV.replica}}`,
        region: `\${${AGENT_LABEL_ENV.region}}`,
        ...(input.modelVersion !== undefined ? { [MODEL_VERSION_LABEL]: input.modelVersion } : {}),
      },
    },
    scrape_configs: [
      {
        job_name: job.jobName,
        scrape_interval: job.scrapeInterval,
        scrape_timeout: job.scrapeTimeout,
        metrics_path: job.metricsPath,
        scheme: "http",
        static_configs: [
          { targets: [target] },
          ...(input.edgeMetricsPort === undefined ? [] : [edgeMetricsTarget(`127.0.0.1:${input.edgeMetricsPort}`, INTERNAL_METRICS_PATH)]),
        ],
      },
    ],
    remote_write: [
      {
        url: input.receiverUrl,
        // Remote write 2.0 is still experimental; every store named in the README accepts 1.0.
        protobuf_message: "prometheus.WriteRequest",
        basic_auth: { username: RECEIVER_USER, password_file: AGENT_PATHS.passwordFile },
        ...(input.trustReceiverCertificate ? { tls_config: { ca_file: AGENT_PATHS.receiverCa } } : {}),
      },
    ],
  };
}

export function renderAgentConfig(input: AgentConfigInput): string {
  return stringify(agentConfig(input), { lineWidth: 0 });
}
