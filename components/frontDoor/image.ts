import type { StackConfig } from "../config/stackConfig";
import { FrontDoorSpec, SCRAPE_KEY_ENV, apiKeyEnv } from "./caddyConfig";
import { EDGE_METRICS_PORT, UPSTREAM_REST_PORT } from "./config";

/** Where the front door lives in the serving image; the binary's path is the official caddy image's. */
export const FRONT_DOOR_PATHS = {
  /** In the official caddy image, and where the serving image's build copies it from. */
  caddyInImage: "/usr/bin/caddy",
  /** A plain copy in the build stage, without the official binary's file capability (see renderDockerfile). */
  caddyCopy: "/tmp/caddy",
  binary: "/usr/local/bin/caddy",
  config: "/etc/tfserving/caddy.json",
} as const;

/** The front door in the serving image: copied from the pinned caddy image, with its rendered config. */
export interface FrontDoorImageSpec {
  /** The pinned caddy image (frontDoorImage), a build stage of the serving image. */
  image: string;
  config: FrontDoorSpec;
  /** Variables the config names (keys, scrape credential): the entrypoint refuses to start without them. */
  requiredEnv: string[];
}

/**
 * The door a stack's image carries: it listens on PORT (Railway's, or the image's REST_PORT), TF Serving
 * answers behind it on loopback. Scrape mode serves the metrics to the scrape credential through the door;
 * in push mode the agent reads them on loopback, so the door serves none.
 */
export function frontDoorImageSpec(config: StackConfig): FrontDoorImageSpec {
  const scrapeCredential = config.metricsMode === "scrape";
  const consumers = config.apiKeyConsumers;
  return {
    image: config.frontDoorImage,
    config: {
      modelName: config.modelName,
      listen: ":{env.PORT}",
      upstream: `127.0.0.1:${UPSTREAM_REST_PORT}`,
      internalMetricsListen: `127.0.0.1:${EDGE_METRICS_PORT}`,
      consumers,
      statusOpen: config.modelStatusOpen,
      maxRequestBodyBytes: config.maxRequestBodyBytes,
      metricsPath: config.servedMetricsPath,
      scrapeCredential,
      upstreamTimeoutMs: config.restApiTimeoutMs ?? 30_000,
    },
    requiredEnv: [...consumers.map(apiKeyEnv), ...(scrapeCredential ? [SCRAPE_KEY_ENV] : [])],
  };
}
