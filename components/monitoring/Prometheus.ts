import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config/stackConfig";
import { EDGE_METRICS_PATH } from "../frontDoor/caddyConfig";
import { ServingEndpoint } from "../serving/endpoint";
import { CONTAINER_REPLACE_ON_CHANGES, KEEP_VOLUME_ON_LABEL_CHANGE } from "../shared/dockerChanges";
import { stackLabels } from "../shared/dockerLabels";
import { hostForUrl } from "../shared/hostUrl";
import { PROMETHEUS_PATHS, PROMETHEUS_PORT, RemoteWriteTarget, prometheusConfigInput, renderPrometheusConfig } from "./prometheusConfig";
import { RECEIVER_PATHS, RECEIVER_USER, renderHealthcheckHttpConfig, renderWebConfig } from "./receiverConfig";
import { renderRules, ruleGroups, rulesInput } from "./rules";

/** Push mode: this Prometheus receives the agents' remote writes. */
export interface ReceiverArgs {
  /** A Pulumi secret. */
  password: pulumi.Output<string>;
  /** bcrypt hash of the password, for the web config. */
  passwordHash: pulumi.Output<string>;
  /** TLS certificate (PEM, read from receiverTlsCertFile) and key (the receiverTlsKey secret). */
  tls?: { certificate: string; key: pulumi.Output<string> };
}

/** Forwarding to a distributed store; the password (a secret) is uploaded as a file. */
export interface ForwardingArgs {
  url: string;
  username?: string;
  password?: pulumi.Output<string>;
  headers?: Record<string, string>;
}

/** The container's name, also its host name on the stack network (where dev's agents push). */
export function prometheusContainerName(namePrefix: string): string {
  return `${namePrefix}-prometheus`;
}

const REMOTE_WRITE_PASSWORD_FILE = "/etc/prometheus/remote-write.password";
const SCRAPE_CREDENTIAL_FILE = "/etc/prometheus/front-door.credential";

export interface PrometheusArgs {
  config: StackConfig;
  /** What to scrape in scrape mode; undefined in push mode, where the agents push. */
  serving?: Pick<ServingEndpoint, "scrapeTarget" | "scrapeScheme">;
  /** The version TF Serving serves: the scrape labels every series with it (push mode: the agents do). */
  modelVersion?: string;
  /** Set in push mode. */
  receiver?: ReceiverArgs;
  forwarding?: ForwardingArgs;
  networkName: pulumi.Input<string>;
  /** `tfserving-<stack>`: names the container and its data volume, unique per stack on one Docker host. */
  namePrefix: string;
  /** `host:port` of an Alertmanager on the same network; none means no alerting section. */
  alertmanagerTarget?: string;
  /** Scrape mode: the front door's scrape credential (a secret), uploaded as a file the scrape job reads. */
  scrapeCredential?: pulumi.Output<string>;
}

/**
 * Prometheus in a container whose TSDB lives in a named volume. Config and rules are uploaded into
 * the container, so changing them replaces the container (the Docker provider cannot update uploads
 * in place); the volume outlives it, so history is kept and `pulumi up` waits for /-/ready again.
 */
export class Prometheus extends pulumi.ComponentResource {
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** From the host, e.g. http://127.0.0.1:9090; resolves once the container is ready. */
  readonly url: pulumi.Output<string>;
  /** From containers on the stack network (Grafana's data source). */
  readonly internalUrl: pulumi.Output<string>;
  /** Push mode: the login every client of this Prometheus needs (Grafana's data source). */
  readonly basicAuth?: { username: string; password: pulumi.Output<string> };

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:monitoring:Prometheus", name, {}, opts);
    const { config } = args;
    const containerName = prometheusContainerName(args.namePrefix);

    this.volume = new docker.Volume(
      `${name}-data`,
      { name: `${args.namePrefix}-prometheus-data`, labels: stackLabels(config.stack) },
      { parent: this, ...KEEP_VOLUME_ON_LABEL_CHANGE },
    );

    const { receiver, forwarding } = args;
    const tls = receiver?.tls !== undefined;
    const scheme = tls ? "https" : "http";
    const remoteWrite: RemoteWriteTarget | undefined = forwarding && {
      url: forwarding.url,
      ...(forwarding.username && forwarding.password ? { basicAuth: { username: forwarding.username, passwordFile: REMOTE_WRITE_PASSWORD_FILE } } : {}),
      ...(forwarding.headers ? { headers: forwarding.headers } : {}),
    };
    const extra = {
      ...(args.alertmanagerTarget ? { alertmanagerTargets: [args.alertmanagerTarget] } : {}),
      ...(receiver ? { receiver: { tls } } : {}),
      ...(remoteWrite ? { remoteWrite } : {}),
      ...(args.modelVersion !== undefined ? { modelVersion: args.modelVersion } : {}),
      ...(args.scrapeCredential ? { frontDoor: { credentialsFile: SCRAPE_CREDENTIAL_FILE, edgeMetricsPath: EDGE_METRICS_PATH } } : {}),
    };
    const prometheusYml = args.serving
      ? pulumi
          .output(args.serving.scrapeTarget)
          .apply((target) => renderPrometheusConfig(prometheusConfigInput(config, { target, scheme: args.serving!.scrapeScheme }, extra)))
      : pulumi.output(renderPrometheusConfig(prometheusConfigInput(config, undefined, extra)));

    // Secret files reach the container as uploads, which then sit encrypted in state; none goes on a command line.
    const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [
      { file: PROMETHEUS_PATHS.config, content: prometheusYml },
      { file: PROMETHEUS_PATHS.rules, content: renderRules(ruleGroups(rulesInput(config))) },
    ];
    const command = [
      `--config.file=${PROMETHEUS_PATHS.config}`,
      `--storage.tsdb.path=${PROMETHEUS_PATHS.data}`,
      `--storage.tsdb.retention.time=${config.prometheusRetention}`,
    ];
    if (receiver) {
      uploads.push(
        { file: RECEIVER_PATHS.webConfig, content: receiver.passwordHash.apply((passwordHash) => renderWebConfig({ passwordHash, tls })) },
        { file: RECEIVER_PATHS.password, content: receiver.password },
        { file: RECEIVER_PATHS.healthcheck, content: renderHealthcheckHttpConfig(tls) },
      );
      if (receiver.tls) uploads.push({ file: RECEIVER_PATHS.cert, content: receiver.tls.certificate }, { file: RECEIVER_PATHS.key, content: receiver.tls.key });
      command.push(`--web.config.file=${RECEIVER_PATHS.webConfig}`, "--web.enable-remote-write-receiver");
    }
    if (remoteWrite?.basicAuth) uploads.push({ file: REMOTE_WRITE_PASSWORD_FILE, content: forwarding!.password! });
    if (args.scrapeCredential) uploads.push({ file: SCRAPE_CREDENTIAL_FILE, content: args.scrapeCredential });

    const ports: docker.types.input.ContainerPort[] = [{ internal: PROMETHEUS_PORT, external: config.prometheusHostPort, ip: config.hostBindAddress }];
    // The deliberate way to publish the receiver beyond this host: its own port, allowed (by config and policy) only with TLS.
    if (receiver && config.receiverHostPort !== undefined) {
      ports.push({ internal: PROMETHEUS_PORT, external: config.receiverHostPort, ip: config.receiverBindAddress });
    }
    // The image is busybox-based (wget, no curl). 127.0.0.1, not localhost: Prometheus listens on IPv4
    // only by default and busybox may resolve localhost to ::1 first. Behind basic auth, promtool logs in
    // with the password file, so the password never appears in the container's config.
    const healthcheckTests = receiver
      ? ["CMD", "promtool", "check", "ready", `--url=${scheme}://127.0.0.1:${PROMETHEUS_PORT}`, `--http.config.file=${RECEIVER_PATHS.healthcheck}`]
      : ["CMD", "wget", "-q", "--spider", `http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`];

    this.container = new docker.Container(
      name,
      {
        name: containerName,
        image: config.prometheusImage,
        labels: stackLabels(config.stack),
        command,
        uploads,
        volumes: [{ volumeName: this.volume.name, containerPath: PROMETHEUS_PATHS.data }],
        ports,
        networksAdvanced: [{ name: args.networkName, aliases: [containerName] }],
        healthcheck: {
          tests: healthcheckTests,
          interval: "5s",
          timeout: "3s",
          retries: 12,
          startPeriod: "10s",
        },
        wait: true,
        waitTimeout: 180,
        restart: "unless-stopped",
      },
      // The fixed name and host port would collide with the old container during a replacement.
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES },
    );

    this.url = this.container.id.apply(() => `${scheme}://${hostForUrl(config.hostBindAddress)}:${config.prometheusHostPort}`);
    this.internalUrl = this.container.id.apply(() => `${scheme}://${containerName}:${PROMETHEUS_PORT}`);
    if (receiver) this.basicAuth = { username: RECEIVER_USER, password: receiver.password };
    this.registerOutputs({ url: this.url, internalUrl: this.internalUrl });
  }
}
