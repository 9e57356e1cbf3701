import * as pulumi from "@pulumi/pulumi";
import { predictUrl } from "./predict";
import { modelStatusUrl } from "./rollout";

/** Where TF Serving answers, seen from the user (url) and from Prometheus (scrape target). */
export interface ServingEndpoint {
  /** Base URL for clients, e.g. http://127.0.0.1:8501 or https://x.up.railway.app. */
  url: pulumi.Output<string>;
  /** Bare `host[:port]` Prometheus scrapes (no scheme, no path). */
  scrapeTarget: pulumi.Output<string>;
  scrapeScheme: "http" | "https";
}

export interface ServingUrls {
  servingUrl: string;
  modelStatusUrl: string;
  predictUrl: string;
  metricsUrl: string;
}

/** The URLs a user of the model needs, all derived from the base URL. */
export function servingUrls(baseUrl: string, modelName: string, metricsPath: string): ServingUrls {
  const servingUrl = baseUrl.replace(/\/+$/, "");
  // The same builders the readiness gate and the predict client call, so the outputs name what was verified.
  return {
    servingUrl,
    modelStatusUrl: modelStatusUrl(servingUrl, modelName),
    predictUrl: predictUrl(servingUrl, modelName),
    metricsUrl: `${servingUrl}${metricsPath}`,
  };
}
