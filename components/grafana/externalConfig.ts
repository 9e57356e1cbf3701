import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { isHttpUrl, key, setHint, setSecretHint } from "../config/schema";

/**
 * Bring your own Grafana: with existingGrafanaUrl set, the data source, folder, dashboard and deploy
 * markers go to that Grafana (a service-account token logs in) and no Grafana container runs. Its data
 * source reads this stack's Prometheus (only a Grafana on this host can reach it) or any
 * Prometheus-compatible query URL, e.g. the store remoteWriteUrl feeds.
 */
export const externalGrafanaKeys = {
  existingGrafanaUrl: z.string().optional(),
  grafanaDataSourceUrl: z.string().optional(),
  grafanaDataSourceUsername: z.string().min(1).optional(),
};

export const EXTERNAL_GRAFANA_SECRET_KEYS = ["existingGrafanaToken", "grafanaDataSourcePassword"] as const;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** A URL with a scheme and a host; `grafana.example.com` alone would be read as a path. */
function schemeProblem(name: string, value: string, example: string): string | undefined {
  if (isHttpUrl(value)) return undefined;
  return `${key(name)}: "${value}" is not an http(s) URL with a scheme; ${setHint(name, example)}`;
}

export function externalGrafanaProblems({ plain, secretsPresent }: ConfigContext): string[] {
  const problems: string[] = [];
  const grafanaUrl = plain.existingGrafanaUrl;
  const dataSourceUrl = plain.grafanaDataSourceUrl;
  if (grafanaUrl !== undefined) {
    const problem = schemeProblem("existingGrafanaUrl", grafanaUrl, "https://<your-stack>.grafana.net");
    if (problem) problems.push(problem);
    if (!secretsPresent.existingGrafanaToken) {
      problems.push(
        `${key("existingGrafanaToken")}: required with ${key("existingGrafanaUrl")}: a service-account token with the Editor role ` +
          `(Grafana: Administration > Users and access > Service accounts); ${setSecretHint("existingGrafanaToken", "glsa_...")}`,
      );
    }
    // Our Prometheus publishes on this host only; a Grafana elsewhere (Grafana Cloud, a company instance) cannot query it.
    if (!problem && dataSourceUrl === undefined && !LOOPBACK.test(new URL(grafanaUrl).hostname)) {
      problems.push(
        `${key("grafanaDataSourceUrl")}: the Grafana at ${grafanaUrl} is not on this host and cannot reach this stack's Prometheus; ` +
          `point its data source at a Prometheus-compatible query URL it can reach, such as the store ${key("remoteWriteUrl")} feeds ` +
          `(${setHint("grafanaDataSourceUrl", "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom")})`,
      );
    }
  } else {
    for (const name of ["grafanaDataSourceUrl", "grafanaDataSourceUsername"] as const) {
      if (plain[name] !== undefined) problems.push(`${key(name)}: only used with ${key("existingGrafanaUrl")}; set that too, or run \`pulumi config rm ${key(name)}\``);
    }
    for (const name of EXTERNAL_GRAFANA_SECRET_KEYS) {
      if (secretsPresent[name]) problems.push(`${key(name)}: only used with ${key("existingGrafanaUrl")}; set that too, or run \`pulumi config rm ${key(name)}\``);
    }
  }
  if (dataSourceUrl !== undefined) {
    const problem = schemeProblem("grafanaDataSourceUrl", dataSourceUrl, "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom");
    if (problem) problems.push(problem);
  }
  if (secretsPresent.grafanaDataSourcePassword && plain.grafanaDataSourceUsername === undefined) {
    problems.push(`${key("grafanaDataSourceUsername")}: required with ${key("grafanaDataSourcePassword")} (basic auth); ${setHint("grafanaDataSourceUsername", "<instance id>")}`);
  }
  return problems;
}

/** Where the stack's Grafana content goes; undefined: the stack runs its own Grafana container. */
export interface ExternalGrafana {
  url: string;
  /** The data source's query URL; undefined: this stack's Prometheus at its host address. */
  dataSourceUrl?: string;
  dataSourceUsername?: string;
}

export function externalGrafanaDerived({ plain }: ConfigContext): { externalGrafana: ExternalGrafana | undefined } {
  if (plain.existingGrafanaUrl === undefined) return { externalGrafana: undefined };
  return {
    externalGrafana: {
      // Grafana's API paths are appended to it, and the dashboard URL too.
      url: plain.existingGrafanaUrl.replace(/\/+$/, ""),
      ...(plain.grafanaDataSourceUrl !== undefined ? { dataSourceUrl: plain.grafanaDataSourceUrl.replace(/\/+$/, "") } : {}),
      ...(plain.grafanaDataSourceUsername !== undefined ? { dataSourceUsername: plain.grafanaDataSourceUsername } : {}),
    },
  };
}
