import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config/stackConfig";
import { ServingEndpoint } from "../serving/endpoint";
import { hostForUrl } from "../shared/hostUrl";
import { PROMETHEUS_PATHS, PROMETHEUS_PORT, prometheusConfigInput, renderPrometheusConfig } from "./prometheusConfig";
import { renderRules, ruleGroups, rulesInput } from "./rules";

export interface PrometheusArgs {
  config: StackConfig;
  serving: Pick<ServingEndpoint, "scrapeTarget" | "scrapeScheme">;
  networkName: pulumi.Input<string>;
  /** `tfserving-<stack>`: names the container and its data volume, unique per stack on one Docker host. */
  namePrefix: string;
  /** `host:port` of an Alertmanager on the same network; none means no alerting section. */
  alertmanagerTarget?: string;
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

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:monitoring:Prometheus", name, {}, opts);
    const { config } = args;
    const containerName = `${args.namePrefix}-prometheus`;

    this.volume = new docker.Volume(`${name}-data`, { name: `${args.namePrefix}-prometheus-data` }, { parent: this });

    const prometheusYml = pulumi.output(args.serving.scrapeTarget).apply((target) =>
      renderPrometheusConfig(
        prometheusConfigInput(
          config,
          { target, scheme: args.serving.scrapeScheme },
          args.alertmanagerTarget ? { alertmanagerTargets: [args.alertmanagerTarget] } : {},
        ),
      ),
    );

    this.container = new docker.Container(
      name,
      {
        name: containerName,
        image: config.prometheusImage,
        command: [
          `--config.file=${PROMETHEUS_PATHS.config}`,
          `--storage.tsdb.path=${PROMETHEUS_PATHS.data}`,
          `--storage.tsdb.retention.time=${config.prometheusRetention}`,
        ],
        uploads: [
          { file: PROMETHEUS_PATHS.config, content: prometheusYml },
          { file: PROMETHEUS_PATHS.rules, content: renderRules(ruleGroups(rulesInput(config))) },
        ],
        volumes: [{ volumeName: this.volume.name, containerPath: PROMETHEUS_PATHS.data }],
        ports: [{ internal: PROMETHEUS_PORT, external: config.prometheusHostPort, ip: config.hostBindAddress }],
        networksAdvanced: [{ name: args.networkName, aliases: [containerName] }],
        // The image is busybox-based (wget, no curl). 127.0.0.1, not localhost: Prometheus listens on IPv4
        // only by default and busybox may resolve localhost to ::1 first.
        healthcheck: {
          tests: ["CMD", "wget", "-q", "--spider", `http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`],
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
      { parent: this, deleteBeforeReplace: true },
    );

    this.url = this.container.id.apply(() => `http://${hostForUrl(config.hostBindAddress)}:${config.prometheusHostPort}`);
    this.internalUrl = this.container.id.apply(() => `http://${containerName}:${PROMETHEUS_PORT}`);
    this.registerOutputs({ url: this.url, internalUrl: this.internalUrl });
  }
}
