import * as pulumi from "@pulumi/pulumi";
import * as grafana from "@pulumiverse/grafana";
import { StackConfig } from "../config/stackConfig";
import { dashboardInput, dashboardJson } from "./dashboard";
import { PROMETHEUS_DATA_SOURCE, prometheusDataSourceSettings } from "./dataSource";

export const GRAFANA_FOLDER = { uid: "tfserving", title: "TF Serving" } as const;

export interface GrafanaContentArgs {
  config: StackConfig;
  /** Logged in to the Grafana the content goes to. */
  provider: grafana.Provider;
  /** What must be up before anything is written (our Grafana's container). */
  dependsOn: pulumi.Resource[];
  /** Grafana's address as users open it; the dashboard URL starts with it. */
  grafanaUrl: pulumi.Output<string>;
  /** The Prometheus-compatible query URL the data source reads, as Grafana's server reaches it. */
  queryUrl: pulumi.Input<string>;
  /** The query URL is outside this stack (see prometheusDataSourceSettings). */
  externalQueryUrl?: boolean;
  /** The served version ships warm-up requests (the dashboard then shows their time). */
  modelWarmup?: boolean;
  /** The login the query URL requires (the password a Pulumi secret). */
  basicAuth?: { username: string; password?: pulumi.Output<string> };
}

/** The stack's content in a Grafana: its Prometheus data source, the folder and the dashboard. */
export function provisionGrafanaContent(name: string, parent: pulumi.Resource, args: GrafanaContentArgs) {
  const { config } = args;
  const grafanaOpts: pulumi.CustomResourceOptions = { parent, provider: args.provider, dependsOn: args.dependsOn };
  const basicAuth = args.basicAuth;
  const settings = pulumi.output(args.queryUrl).apply((url) =>
    prometheusDataSourceSettings({ url, scrapeInterval: config.scrapeInterval, basicAuthUser: basicAuth?.username, external: args.externalQueryUrl }),
  );
  const dataSource = new grafana.oss.DataSource(
    `${name}-prometheus`,
    {
      uid: PROMETHEUS_DATA_SOURCE.uid,
      name: PROMETHEUS_DATA_SOURCE.name,
      type: PROMETHEUS_DATA_SOURCE.type,
      url: settings.url,
      accessMode: settings.accessMode,
      isDefault: settings.isDefault,
      jsonDataEncoded: settings.jsonDataEncoded,
      ...(basicAuth
        ? {
            basicAuthEnabled: true,
            basicAuthUsername: basicAuth.username,
            ...(basicAuth.password
              ? { secureJsonDataEncoded: pulumi.secret(basicAuth.password.apply((password) => JSON.stringify({ basicAuthPassword: password }))) }
              : {}),
          }
        : {}),
    },
    grafanaOpts,
  );

  const folder = new grafana.oss.Folder(`${name}-folder`, { uid: GRAFANA_FOLDER.uid, title: GRAFANA_FOLDER.title }, grafanaOpts);

  // The legacy dashboard API resource on purpose, also with Grafana 13: the provider (4.44) still supports it
  // there and normalizes what it reads back (ids, version); apps/v1beta1 keeps Grafana's answer verbatim, and
  // moving to it would create the same uid under a new resource, then delete it with the old one.
  const input = dashboardInput(config, PROMETHEUS_DATA_SOURCE, { warmup: args.modelWarmup });
  const dashboard = new grafana.oss.Dashboard(
    `${name}-dashboard`,
    { folder: folder.uid, configJson: dashboardJson(input), overwrite: true },
    // Panels name the data source by uid; saving them first would show "data source not found" until it exists.
    { ...grafanaOpts, dependsOn: [...args.dependsOn, dataSource] },
  );

  const dashboardUrl = pulumi.all([args.grafanaUrl, dashboard.id]).apply(([url]) => `${url}/d/${input.uid}`);
  return { dataSource, folder, dashboard, dashboardUrl };
}
