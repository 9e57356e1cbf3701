import * as pulumi from "@pulumi/pulumi";
import * as grafana from "@pulumiverse/grafana";
import { StackConfig } from "../config/stackConfig";
import { ExternalGrafana } from "./externalConfig";
import { provisionGrafanaContent } from "./provision";

export interface ExistingGrafanaArgs {
  config: StackConfig;
  grafana: ExternalGrafana;
  /** The service-account token (a Pulumi secret). */
  token: pulumi.Output<string>;
  /** The data source's query URL and login: the configured store, or this stack's Prometheus at its host address. */
  query: { url: pulumi.Input<string>; external: boolean; basicAuth?: { username: string; password?: pulumi.Output<string> } };
  /** The served version ships warm-up requests. */
  modelWarmup?: boolean;
}

/**
 * A Grafana the team already runs (Grafana Cloud, a company instance): the stack writes its data source,
 * folder and dashboard there with a service-account token and runs no Grafana container.
 */
export class ExistingGrafana extends pulumi.ComponentResource {
  readonly provider: grafana.Provider;
  readonly dataSource: grafana.oss.DataSource;
  readonly folder: grafana.oss.Folder;
  readonly dashboard: grafana.oss.Dashboard;
  readonly url: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  /** No admin login of ours: the stack outputs keep their names, empty. */
  readonly adminUser = "";
  readonly adminPassword: pulumi.Output<string> = pulumi.secret("");

  constructor(name: string, args: ExistingGrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:grafana:ExistingGrafana", name, {}, opts);
    this.url = pulumi.output(args.grafana.url);
    // The token stays a secret in the provider's state; the provider sends it as a bearer token.
    this.provider = new grafana.Provider(name, { url: args.grafana.url, auth: args.token }, { parent: this });
    const content = provisionGrafanaContent(name, this, {
      config: args.config,
      provider: this.provider,
      dependsOn: [],
      grafanaUrl: this.url,
      queryUrl: args.query.url,
      externalQueryUrl: args.query.external,
      basicAuth: args.query.basicAuth,
      modelWarmup: args.modelWarmup,
    });
    this.dataSource = content.dataSource;
    this.folder = content.folder;
    this.dashboard = content.dashboard;
    this.dashboardUrl = content.dashboardUrl;
    this.registerOutputs({ url: this.url, dashboardUrl: this.dashboardUrl });
  }
}
