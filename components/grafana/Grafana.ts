import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as grafana from "@pulumiverse/grafana";
import { StackConfig } from "../config/stackConfig";
import { CONTAINER_REPLACE_ON_CHANGES, KEEP_VOLUME_ON_LABEL_CHANGE } from "../shared/dockerChanges";
import { stackLabels } from "../shared/dockerLabels";
import { hostForUrl } from "../shared/hostUrl";
import { adminResetEntrypoint } from "./adminReset";
import { provisionGrafanaContent } from "./provision";

export const GRAFANA_PORT = 3000;
/** The image's data path: SQLite database (users, data sources, dashboards) and plugins. */
export const GRAFANA_DATA_PATH = "/var/lib/grafana";
export { GRAFANA_FOLDER } from "./provision";

export interface GrafanaArgs {
  config: StackConfig;
  networkName: pulumi.Input<string>;
  /** `tfserving-<stack>`: names the container and its data volume, unique per stack on one Docker host. */
  namePrefix: string;
  /** Prometheus as Grafana's server reaches it on the stack network, e.g. http://tfserving-dev-prometheus:9090. */
  prometheusInternalUrl: pulumi.Input<string>;
  /** Push mode: the login Prometheus requires (the password a Pulumi secret). */
  prometheusBasicAuth?: { username: string; password: pulumi.Output<string> };
  /** The served version ships warm-up requests. */
  modelWarmup?: boolean;
}

/**
 * Grafana in a container with a generated admin password, plus its Prometheus data source, a folder and
 * the dashboard, all written through an explicit provider that only gets its URL once the container is healthy.
 */
export class Grafana extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  /** A Pulumi secret. */
  readonly adminPassword: pulumi.Output<string>;
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  readonly provider: grafana.Provider;
  readonly dataSource: grafana.oss.DataSource;
  readonly folder: grafana.oss.Folder;
  readonly dashboard: grafana.oss.Dashboard;
  /** From this host, e.g. http://127.0.0.1:3000; resolves once the container is healthy. */
  readonly url: pulumi.Output<string>;
  /** The dashboard's address; resolves once the dashboard is saved. */
  readonly dashboardUrl: pulumi.Output<string>;
  readonly adminUser: string;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:grafana:Grafana", name, {}, opts);
    const { config } = args;
    const containerName = `${args.namePrefix}-grafana`;
    this.adminUser = config.grafanaAdminUser;

    // Letters and digits only: the password travels in an env var and in `user:password` basic auth.
    this.password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });
    // Secret by construction, not only through the provider's schema, so every value derived from it stays secret.
    this.adminPassword = pulumi.secret(this.password.result);

    this.volume = new docker.Volume(
      `${name}-data`,
      { name: `${args.namePrefix}-grafana-data`, labels: stackLabels(config.stack) },
      { parent: this, ...KEEP_VOLUME_ON_LABEL_CHANGE },
    );

    this.container = new docker.Container(
      name,
      {
        name: containerName,
        image: config.grafanaImage,
        labels: stackLabels(config.stack),
        // Sets the password on a database an earlier stack left in the volume, then starts the image's own entrypoint.
        entrypoints: adminResetEntrypoint(),
        envs: [
          // Grafana applies these two when it creates its database; the entrypoint resets the password on an existing one.
          `GF_SECURITY_ADMIN_USER=${this.adminUser}`,
          pulumi.interpolate`GF_SECURITY_ADMIN_PASSWORD=${this.adminPassword}`,
          "GF_USERS_ALLOW_SIGN_UP=false",
          "GF_AUTH_ANONYMOUS_ENABLED=false",
        ],
        volumes: [{ volumeName: this.volume.name, containerPath: GRAFANA_DATA_PATH }],
        ports: [{ internal: GRAFANA_PORT, external: config.grafanaHostPort, ip: config.hostBindAddress }],
        networksAdvanced: [{ name: args.networkName, aliases: [containerName] }],
        // The official image (Alpine and Ubuntu variants alike) installs curl; /api/health answers 200 once the database is up.
        healthcheck: {
          tests: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${GRAFANA_PORT}/api/health`],
          interval: "5s",
          timeout: "3s",
          retries: 24,
          startPeriod: "10s",
        },
        wait: true,
        // First start runs the database migrations, which take a while on a small machine.
        waitTimeout: 180,
        restart: "unless-stopped",
      },
      // The fixed name and host port would collide with the old container during a replacement; envs hold the password.
      { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"], replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES },
    );

    // Read back from the container, so the provider cannot be configured before Grafana answers.
    this.url = this.container.ports.apply((ports) => {
      const published = (ports ?? []).find((port) => port.internal === GRAFANA_PORT);
      if (published?.external === undefined) throw new Error(`the Grafana container publishes no host port for ${GRAFANA_PORT}`);
      return `http://${hostForUrl(config.hostBindAddress)}:${published.external}`;
    });

    this.provider = new grafana.Provider(
      name,
      { url: this.url, auth: pulumi.interpolate`${this.adminUser}:${this.adminPassword}` },
      { parent: this, dependsOn: [this.container] },
    );
    const content = provisionGrafanaContent(name, this, {
      config,
      provider: this.provider,
      dependsOn: [this.container],
      grafanaUrl: this.url,
      queryUrl: args.prometheusInternalUrl,
      basicAuth: args.prometheusBasicAuth,
      modelWarmup: args.modelWarmup,
    });
    this.dataSource = content.dataSource;
    this.folder = content.folder;
    this.dashboard = content.dashboard;
    this.dashboardUrl = content.dashboardUrl;
    this.registerOutputs({ url: this.url, dashboardUrl: this.dashboardUrl, adminUser: this.adminUser });
  }
}
