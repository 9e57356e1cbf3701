import { createHash } from "node:crypto";
import * as path from "node:path";
import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { httpUrl, ipAddress, key, port, setHint, setSecretHint } from "../config/schema";

/** Push mode: the agent's own web server in the serving container (loopback); TF Serving's ports must differ. */
export const AGENT_LISTEN_PORT = 9095;

/** Keys of push mode (an agent in every replica remote-writes to our Prometheus) and of forwarding to a distributed store. */
export const pushModeKeys = {
  metricsMode: z.enum(["scrape", "push"], { error: "must be `scrape` (Prometheus scrapes one endpoint) or `push` (an agent in every replica pushes)" }).default("scrape"),
  receiverUrl: httpUrl("https://metrics.example.com/api/v1/write").optional(),
  receiverHostPort: port.optional(),
  receiverBindAddress: ipAddress("0.0.0.0").default("0.0.0.0"),
  receiverTlsCertFile: z.string().min(1, "must not be empty").optional(),
  remoteWriteUrl: httpUrl("https://mimir.example.com/api/v1/push").optional(),
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
};

export const PUSH_MODE_SECRET_KEYS = ["receiverTlsKey", "remoteWritePassword"] as const;

/** The keys of push mode, the receiver and forwarding only make sense together; each problem names its key. */
export function pushModeProblems({ plain, secretsPresent }: ConfigContext): string[] {
  const problems: string[] = [];
  const push = plain.metricsMode === "push";
  const tls = plain.receiverTlsCertFile !== undefined;
  if (tls !== secretsPresent.receiverTlsKey) {
    problems.push(
      tls
        ? `${key("receiverTlsKey")}: is required with ${key("receiverTlsCertFile")}; ${setSecretHint("receiverTlsKey", '-- "$(cat tls.key)"')}`
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
      `${receiverKeys.map(key).join(", ")}: configure the remote-write receiver, which exists only in push mode; ${setHint("metricsMode", "push")} or remove them`,
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
        : `${key("remoteWritePassword")}: is required with ${key("remoteWriteUsername")}; ${setSecretHint("remoteWritePassword", "<password>")}`,
    );
  }
  return problems;
}

export function pushModeDerived({ plain, stack, projectDir, secretValue }: ConfigContext) {
  return {
    /**
     * The path TF Serving serves its metrics at: metricsPath, plus in push mode on Railway a suffix nobody can
     * guess (see servedMetricsPath), since the public domain answers every path of the REST port.
     */
    servedMetricsPath: servedMetricsPath(plain, stack, secretValue("railwayToken")),
    /** receiverTlsCertFile resolved against the project folder. */
    receiverTlsCertFileAbsolute: plain.receiverTlsCertFile === undefined ? undefined : path.resolve(projectDir, plain.receiverTlsCertFile),
  };
}

/**
 * In push mode on Railway nothing outside the replica needs TF Serving's metrics, but TF Serving serves
 * them on the public REST port and cannot bind them elsewhere. So the path gets a per-stack suffix
 * derived from the Railway token, the stack and the service (SHA-256 with its own prefix, so the suffix
 * reveals nothing about the token): stable across previews, different for two stacks sharing a token,
 * known only to the image's agent and whoever holds the stack's secrets, and changed with the token.
 */
function servedMetricsPath(plain: ConfigContext["plain"], stack: string, railwayToken: string | undefined): string {
  if (plain.metricsMode !== "push" || plain.deployTarget !== "railway" || !railwayToken) return plain.metricsPath;
  const seed = ["tfserving-platform metrics path", stack, plain.railwayService ?? "", railwayToken].join("\0");
  const suffix = createHash("sha256").update(seed).digest("hex").slice(0, 32);
  return `${plain.metricsPath.replace(/\/+$/, "")}/${suffix}`;
}
