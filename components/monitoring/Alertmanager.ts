import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config/stackConfig";
import { CONTAINER_REPLACE_ON_CHANGES, KEEP_VOLUME_ON_LABEL_CHANGE } from "../shared/dockerChanges";
import { stackLabels } from "../shared/dockerLabels";
import { hostForUrl } from "../shared/hostUrl";
import { ALERTMANAGER_PATHS, ALERTMANAGER_PORT, renderAlertmanagerConfig } from "./alertmanagerConfig";

export interface AlertmanagerArgs {
  config: StackConfig;
  /** The tfserving-platform:alertmanagerWebhookUrl secret. */
  webhookUrl: pulumi.Output<string>;
  networkName: pulumi.Input<string>;
  namePrefix: string;
}

/** Alertmanager routing every alert to one webhook; silences and notification state live in a named volume. */
export class Alertmanager extends pulumi.ComponentResource {
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** `host:port` for Prometheus' alerting section, on the stack network. */
  readonly target: string;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:monitoring:Alertmanager", name, {}, opts);
    const { config } = args;
    const containerName = `${args.namePrefix}-alertmanager`;
    this.target = `${containerName}:${ALERTMANAGER_PORT}`;

    this.volume = new docker.Volume(
      `${name}-data`,
      { name: `${args.namePrefix}-alertmanager-data`, labels: stackLabels(config.stack) },
      { parent: this, ...KEEP_VOLUME_ON_LABEL_CHANGE },
    );

    // The rendered file embeds the webhook URL, so it stays a secret in the container's inputs and state.
    const alertmanagerYml = pulumi.secret(args.webhookUrl.apply((webhookUrl) => renderAlertmanagerConfig({ webhookUrl })));

    this.container = new docker.Container(
      name,
      {
        name: containerName,
        image: config.alertmanagerImage,
        labels: stackLabels(config.stack),
        command: [`--config.file=${ALERTMANAGER_PATHS.config}`, `--storage.path=${ALERTMANAGER_PATHS.data}`],
        uploads: [{ file: ALERTMANAGER_PATHS.config, content: alertmanagerYml }],
        volumes: [{ volumeName: this.volume.name, containerPath: ALERTMANAGER_PATHS.data }],
        ports: [{ internal: ALERTMANAGER_PORT, external: config.alertmanagerHostPort, ip: config.hostBindAddress }],
        networksAdvanced: [{ name: args.networkName, aliases: [containerName] }],
        healthcheck: {
          tests: ["CMD", "wget", "-q", "--spider", `http://127.0.0.1:${ALERTMANAGER_PORT}/-/ready`],
          interval: "5s",
          timeout: "3s",
          retries: 12,
          startPeriod: "5s",
        },
        wait: true,
        waitTimeout: 120,
        restart: "unless-stopped",
      },
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES },
    );

    this.url = this.container.id.apply(() => `http://${hostForUrl(config.hostBindAddress)}:${config.alertmanagerHostPort}`);
    this.registerOutputs({ url: this.url, target: this.target });
  }
}
