/**
 * The Prometheus data source as Grafana stores it. Its uid is fixed, so dashboard panels can reference
 * it before it exists and a re-created data source keeps every panel working.
 */
export const PROMETHEUS_DATA_SOURCE = {
  uid: "tfserving-prometheus",
  // The alert list panel filters rule sources by data source name, not uid.
  name: "Prometheus",
  type: "prometheus",
} as const;

export interface PrometheusDataSourceInput {
  /** Prometheus as Grafana's server reaches it, e.g. http://tfserving-dev-prometheus:9090 over the stack network. */
  url: string;
  /** The scrape interval of the TF Serving job: the smallest step worth querying. */
  scrapeInterval: string;
  /** Push mode: Prometheus requires the receiver login; the password goes in secureJsonData, set by the caller. */
  basicAuthUser?: string;
  /**
   * A query URL outside this stack (a store such as Grafana Cloud or Mimir): it keeps its API prefix
   * (/api/prom, /prometheus) and its certificate is verified like any public one.
   */
  external?: boolean;
}

export interface PrometheusDataSourceSettings {
  uid: string;
  name: string;
  type: string;
  url: string;
  accessMode: "proxy";
  isDefault: true;
  jsonDataEncoded: string;
  basicAuthEnabled: boolean;
  basicAuthUsername?: string;
}

/** Arguments for the provider's DataSource; jsonData is serialized here so its text never changes between runs. */
export function prometheusDataSourceSettings(input: PrometheusDataSourceInput): PrometheusDataSourceSettings {
  if (!input.external && !/^https?:\/\/[^/\s]+$/.test(input.url)) {
    throw new Error(`Prometheus data source URL "${input.url}" must be http(s)://host[:port] without a path`);
  }
  const jsonData = {
    httpMethod: "POST",
    // Data-source-managed rules: Grafana lists the rules Prometheus evaluates (see the README's Grafana section).
    manageAlerts: true,
    prometheusType: "Prometheus",
    timeInterval: input.scrapeInterval,
    // The receiver's certificate names its public host, not the container name Grafana dials on the private
    // stack network; the connection is still encrypted and the login still checked.
    ...(input.url.startsWith("https:") && !input.external ? { tlsSkipVerify: true } : {}),
  };
  return {
    uid: PROMETHEUS_DATA_SOURCE.uid,
    name: PROMETHEUS_DATA_SOURCE.name,
    type: PROMETHEUS_DATA_SOURCE.type,
    url: input.url,
    // Grafana's server proxies queries, so browsers never need to reach Prometheus on the Docker network.
    accessMode: "proxy",
    isDefault: true,
    jsonDataEncoded: JSON.stringify(jsonData),
    basicAuthEnabled: input.basicAuthUser !== undefined,
    ...(input.basicAuthUser !== undefined ? { basicAuthUsername: input.basicAuthUser } : {}),
  };
}
