/**
 * The one place each default image version is stated. The stack config's defaults and Pulumi.yaml take
 * these tags; Renovate (renovate.json) keeps them current; the tests run Prometheus, promtool,
 * Alertmanager, amtool and Caddy built from the Go modules of these same releases
 * (scripts/build-monitoring-tools.ts), so what the tests prove holds for what the containers run.
 */
export const DEFAULT_IMAGES = {
  tfServing: "tensorflow/serving:2.20.0",
  // 3.13 is Prometheus' long-term-support line.
  prometheus: "prom/prometheus:v3.13.5",
  // Not a -distroless tag: the healthcheck needs the image's curl.
  grafana: "grafana/grafana:13.2.3",
  alertmanager: "prom/alertmanager:v0.35.0",
  // The front door's binary is copied from it into the serving image.
  caddy: "caddy:2.11.9",
} as const;

/** The tag of an image reference, e.g. `v3.13.5` of `prom/prometheus:v3.13.5`. */
export function imageTag(ref: string): string {
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) throw new Error(`image reference "${ref}" has no tag`);
  return lastSegment.slice(colon + 1);
}

/** The release an image tag names, without the `v` prefix: `v3.13.5` -> `3.13.5`. */
export function imageRelease(ref: string): string {
  return imageTag(ref).replace(/^v/, "");
}
