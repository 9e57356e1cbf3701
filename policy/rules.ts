/**
 * Validation logic of the policy pack as pure functions over plain resource properties, so the tests
 * call them without the Pulumi engine. Each returns the problems found; an empty list passes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { durationMs, imagePinProblem } from "../components/config/stackConfig";

/** Pulumi type tokens of the resources the policies look at. */
export const TYPES = {
  container: "docker:index/container:Container",
  image: "docker:index/image:Image",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  command: "command:local:Command",
  randomPassword: "random:index/randomPassword:RandomPassword",
} as const;

export const PROMETHEUS_CONFIG_FILE = "/etc/prometheus/prometheus.yml";
export const GRAFANA_PASSWORD_ENV = "GF_SECURITY_ADMIN_PASSWORD";
/** Environment variable of the Railway deploy command that names the uploaded build context. */
export const DEPLOY_CONTEXT_ENV = "DEPLOY_CONTEXT_DIR";
export const SCRAPE_INTERVAL_BOUNDS_MS = { min: 1_000, max: 300_000 } as const;

type Props = Record<string, unknown>;

/** The image reference(s) a resource pulls or names; unpinned ones are reported. */
export function imagePinProblems(type: string, props: Props): string[] {
  const refs: [string, unknown][] =
    type === TYPES.container
      ? [["image", props.image]]
      : type === TYPES.image
        ? [["imageName", props.imageName]]
        : type === TYPES.remoteImage
          ? [["name", props.name]]
          : [];
  return refs.flatMap(([field, ref]) => {
    const problem = typeof ref === "string" ? imagePinProblem(ref) : "is missing";
    return problem ? [`${field} "${String(ref ?? "")}" ${problem}; pin an exact tag (not latest) or a digest`] : [];
  });
}

/** 127.0.0.0/8 and ::1: reachable from this host only. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1" || address === "[::1]";
}

interface ContainerPort {
  internal?: number;
  external?: number;
  ip?: string;
}

/** Host ports published beyond loopback (a port without `ip` binds every interface), unless the stack allows it. */
export function publicPortProblems(props: Props, allowPublicPorts: boolean): string[] {
  if (allowPublicPorts) return [];
  // The one deliberate exception: a Prometheus whose web config enforces both TLS and basic auth (the push-mode receiver).
  const web = prometheusWebSecurity(props);
  if (props.networkMode !== "host" && web.tls && web.auth) return [];
  const problems: string[] = [];
  if (props.networkMode === "host") problems.push("uses network mode host, which exposes every port on all interfaces");
  for (const port of (props.ports as ContainerPort[] | undefined) ?? []) {
    if (port.ip === undefined || port.ip === "" || !isLoopback(port.ip)) {
      problems.push(
        `publishes container port ${port.internal} on ${port.ip ? port.ip : "all interfaces"}` +
          `${port.external === undefined ? "" : `:${port.external}`}; bind it to 127.0.0.1 ` +
          "(tfserving-platform:hostBindAddress) or set allowPublicPorts for this stack",
      );
    }
  }
  return problems;
}

/** The value of one `NAME=value` entry of a container's envs, or undefined when it is not set. */
export function envValue(envs: unknown, name: string): string | undefined {
  for (const entry of (envs as string[] | undefined) ?? []) {
    if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1);
  }
  return undefined;
}

export interface StackResource {
  type: string;
  urn: string;
  props: Props;
}

/** grafana/grafana, grafana/grafana-oss or grafana/grafana-enterprise, from any registry, by tag or digest. */
export function isGrafanaImage(ref: unknown): boolean {
  if (typeof ref !== "string") return false;
  const repository = ref.split("@")[0].replace(/:[^/]*$/, "");
  return /^grafana(-oss|-enterprise)?$/.test(repository.slice(repository.lastIndexOf("/") + 1));
}

/**
 * The SDK hands validations secret values already unwrapped, so secretness itself is invisible to a policy.
 * What it can see is where the value came from: the admin password must be the result of a
 * random.RandomPassword in the same stack, which a literal in code or in plain config never is.
 * A Grafana container without the variable is reported too: Grafana then starts with admin/admin.
 */
export function grafanaPasswordProblems(resources: StackResource[]): { urn: string; problem: string }[] {
  const generated = new Set(
    resources.filter((resource) => resource.type === TYPES.randomPassword).map((resource) => resource.props.result as string),
  );
  return resources
    .filter((resource) => resource.type === TYPES.container)
    .flatMap((resource) => {
      const password = envValue(resource.props.envs, GRAFANA_PASSWORD_ENV);
      if (password === undefined) {
        return isGrafanaImage(resource.props.image)
          ? [{ urn: resource.urn, problem: `${GRAFANA_PASSWORD_ENV} is not set, so Grafana's admin password is the default "admin"` }]
          : [];
      }
      if (generated.has(password)) return [];
      return [
        {
          urn: resource.urn,
          problem: `${GRAFANA_PASSWORD_ENV} is not the result of a random.RandomPassword in this stack; generate it and pass it as a secret`,
        },
      ];
    });
}

/** The build context a resource builds or uploads: docker.Image build.context or the Railway deploy command's folder. */
export function buildContextOf(type: string, props: Props): string | undefined {
  if (type === TYPES.image) return (props.build as { context?: string } | undefined)?.context;
  if (type === TYPES.command) return (props.environment as Record<string, string> | undefined)?.[DEPLOY_CONTEXT_ENV];
  return undefined;
}

/**
 * A TF Serving build context must turn on the Prometheus endpoint: config/monitoring.config with
 * `prometheus_config { enable: true ... }`, and a Dockerfile that hands that file to the server.
 * Relative contexts are resolved against projectDir (Pulumi passes them as the program wrote them).
 */
export function monitoringProblems(contextDir: string, projectDir: string): string[] {
  const root = path.resolve(projectDir, contextDir);
  const read = (relative: string) => {
    try {
      return fs.readFileSync(path.join(root, relative), "utf8");
    } catch {
      return undefined;
    }
  };
  const problems: string[] = [];
  const monitoring = read("config/monitoring.config");
  const block = monitoring === undefined ? null : /prometheus_config\s*\{([^}]*)\}/.exec(monitoring);
  if (monitoring === undefined) problems.push(`${contextDir} has no config/monitoring.config`);
  else if (!block || !/(^|\s)enable\s*:\s*true\b/.test(block[1])) {
    problems.push(`${contextDir}/config/monitoring.config does not set prometheus_config { enable: true }`);
  }
  const dockerfile = read("Dockerfile");
  if (dockerfile === undefined) problems.push(`${contextDir} has no Dockerfile`);
  else if (!/MONITORING_CONFIG_FILE=\S*monitoring\.config|--monitoring_config_file=/.test(dockerfile)) {
    problems.push(`${contextDir}/Dockerfile does not pass the monitoring config to tensorflow_model_server`);
  }
  return problems;
}

interface Upload {
  file?: string;
  content?: string;
}

/** Every scrape interval of the uploaded prometheus.yml (global and per job) must lie within 1s..5m. */
export function scrapeIntervalProblems(props: Props): string[] {
  const upload = ((props.uploads as Upload[] | undefined) ?? []).find((entry) => entry.file === PROMETHEUS_CONFIG_FILE);
  if (!upload) return [];
  if (typeof upload.content !== "string") return [`${PROMETHEUS_CONFIG_FILE} is uploaded without inline content, so its intervals cannot be checked`];
  let config: {
    global?: { scrape_interval?: unknown };
    scrape_configs?: { job_name?: string; scrape_interval?: unknown }[];
  } | null;
  try {
    config = parse(upload.content);
  } catch (error) {
    return [`${PROMETHEUS_CONFIG_FILE} is not valid YAML: ${(error as Error).message}`];
  }
  const intervals: [string, unknown][] = [];
  if (config?.global?.scrape_interval !== undefined) intervals.push(["global", config.global.scrape_interval]);
  for (const job of config?.scrape_configs ?? []) {
    if (job.scrape_interval !== undefined) intervals.push([`job ${job.job_name}`, job.scrape_interval]);
  }
  return intervals.flatMap(([where, interval]) => {
    const ms = typeof interval === "string" ? durationMs(interval) : undefined;
    if (ms !== undefined && ms >= SCRAPE_INTERVAL_BOUNDS_MS.min && ms <= SCRAPE_INTERVAL_BOUNDS_MS.max) return [];
    return [`${where} scrape_interval "${String(interval)}" is outside 1s..5m`];
  });
}

/** `--flag=value` of a container's command, or undefined. */
function commandFlag(props: Props, flag: string): string | undefined {
  const entry = ((props.command as string[] | undefined) ?? []).find((arg) => arg.startsWith(`${flag}=`));
  return entry?.slice(flag.length + 1);
}

/**
 * What the web config a Prometheus container is started with (`--web.config.file`, uploaded inline)
 * enforces: TLS (`tls_server_config` with a certificate) and basic auth (`basic_auth_users` with at least one user).
 */
export function prometheusWebSecurity(props: Props): { tls: boolean; auth: boolean } {
  const file = commandFlag(props, "--web.config.file");
  const upload = file === undefined ? undefined : ((props.uploads as Upload[] | undefined) ?? []).find((entry) => entry.file === file);
  if (typeof upload?.content !== "string") return { tls: false, auth: false };
  let config: { tls_server_config?: { cert_file?: string; cert?: string }; basic_auth_users?: Record<string, string> } | null;
  try {
    config = parse(upload.content);
  } catch {
    return { tls: false, auth: false };
  }
  return {
    tls: Boolean(config?.tls_server_config?.cert_file || config?.tls_server_config?.cert),
    auth: Object.keys(config?.basic_auth_users ?? {}).length > 0,
  };
}

/** A Prometheus that accepts remote writes must require basic auth, or anyone who reaches it can write series. */
export function receiverAuthProblems(props: Props): string[] {
  if (!((props.command as string[] | undefined) ?? []).includes("--web.enable-remote-write-receiver")) return [];
  if (prometheusWebSecurity(props).auth) return [];
  return ["accepts remote writes (--web.enable-remote-write-receiver) without basic auth: start it with --web.config.file whose basic_auth_users lists the receiver user"];
}
