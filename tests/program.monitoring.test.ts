import { parse } from "yaml";
import { DEFAULT_IMAGES } from "../components/config/versions";
import { PROMETHEUS_PATHS } from "../components/monitoring/prometheusConfig";
import { makeModelDir, removeDir } from "./support/modelFixture";
import { MOCK_DEPLOYED, RegisteredResource, runProgram, stackRunOptions } from "./support/program";
import { SECRET_SIG, SECRET_VALUE } from "./support/secrets";

const CONTAINER = "docker:index/container:Container";
const WEBHOOK = "https://hooks.example.invalid/alerts/secret-token";

type Upload = { file: string; content: unknown };
/** Uploads as the container gets them; secret as a whole where one of them is (scrape mode's front-door credential). */
const uploads = (container: RegisteredResource) => {
  const value = container.inputs.uploads as Record<string, unknown>;
  return (value[SECRET_SIG] === SECRET_VALUE ? value.value : value) as Upload[];
};
const upload = (container: RegisteredResource, file: string) => uploads(container).find((entry) => entry.file === file)!;

describe("monitoring under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it("dev: Prometheus scrapes the serving container over the stack network with http, keeps its TSDB in a volume, binds loopback", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local" } });
    const prometheus = run.one(CONTAINER, "prometheus");
    const serving = run.one(CONTAINER, "serving");
    run.one("tfserving-platform:monitoring:Prometheus", "prometheus");

    expect(prometheus.inputs.name).toBe("tfserving-dev-prometheus");
    expect(prometheus.inputs.image).toBe(DEFAULT_IMAGES.prometheus);
    expect(prometheus.inputs.networksAdvanced).toEqual([expect.objectContaining({ name: "tfserving-dev", aliases: ["tfserving-dev-prometheus"] })]);
    expect(prometheus.inputs.ports).toEqual([expect.objectContaining({ internal: 9090, external: 9090, ip: "127.0.0.1" })]);
    expect(prometheus.inputs.restart).toBe("unless-stopped");
    expect(prometheus.inputs.wait).toBe(true);
    expect((prometheus.inputs.healthcheck as { tests: string[] }).tests).toEqual(["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9090/-/ready"]);

    const volume = run.one("docker:index/volume:Volume", "prometheus-data");
    expect(volume.inputs.name).toBe("tfserving-dev-prometheus-data");
    expect(prometheus.inputs.volumes).toEqual([expect.objectContaining({ volumeName: "tfserving-dev-prometheus-data", containerPath: "/prometheus" })]);
    expect(prometheus.inputs.command).toEqual(expect.arrayContaining(["--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=30d"]));

    const config = parse(upload(prometheus, PROMETHEUS_PATHS.config).content as string);
    const job = config.scrape_configs[0];
    expect(job).toMatchObject({ job_name: "tf-serving-local", scheme: "http", metrics_path: "/monitoring/prometheus/metrics" });
    // The serving container's name on the shared network, at its in-container REST port: the front door, with
    // Prometheus' own credential (a file of the secret uploads), TF Serving's metrics and the door's own, both
    // labelled with the served version.
    const target = `${serving.inputs.name}:8501`;
    expect(job.static_configs).toEqual([
      { targets: [target], labels: { model_version: "1763528202" } },
      { targets: [target], labels: { model_version: "1763528202", __metrics_path__: "/monitoring/edge/metrics", component: "edge" } },
    ]);
    expect(job.authorization).toEqual({ type: "Bearer", credentials_file: "/etc/prometheus/front-door.credential" });
    expect(upload(prometheus, "/etc/prometheus/front-door.credential").content).toBe("mock-password-front-door-scrape");
    expect((serving.inputs.networksAdvanced as { name: string }[])[0].name).toBe("tfserving-dev");
    expect(config.alerting).toBeUndefined();
    expect(config.rule_files).toEqual([PROMETHEUS_PATHS.rules]);
    expect(upload(prometheus, PROMETHEUS_PATHS.rules).content).toContain("alert: TFServingTargetDown");

    expect(run.outputs.prometheusUrl).toBe("http://127.0.0.1:9090");
    expect(run.byType("tfserving-platform:monitoring:Alertmanager")).toEqual([]);
  });

  it("prod: Prometheus scrapes exactly the Railway domain output over https, still bound to loopback", async () => {
    // The deploy command's last stdout line is its result.
    const run = await runProgram(stackRunOptions("prod", modelDir));
    const prometheus = run.one(CONTAINER, "prometheus");
    const job = parse(upload(prometheus, PROMETHEUS_PATHS.config).content as string).scrape_configs[0];
    expect(run.outputs.railwayDomain).toBe(MOCK_DEPLOYED.host);
    expect(job).toMatchObject({ job_name: "tf-serving-railway", scheme: "https", metrics_path: "/monitoring/prometheus/metrics" });
    expect(job.static_configs[0]).toEqual({ targets: [run.outputs.railwayDomain], labels: { model_version: "1763528202" } });
    expect(job.tls_config).toBeUndefined();
    expect(prometheus.inputs.name).toBe("tfserving-prod-prometheus");
    expect(prometheus.inputs.ports).toEqual([expect.objectContaining({ internal: 9090, external: 9090, ip: "127.0.0.1" })]);
    expect(prometheus.inputs.volumes).toEqual([expect.objectContaining({ volumeName: "tfserving-prod-prometheus-data" })]);
    expect(run.outputs.prometheusUrl).toBe("http://127.0.0.1:9090");
  });

  it("follows the Prometheus config keys: host port, bind address, retention, job name, intervals", async () => {
    const run = await runProgram({
      stack: "dev",
      config: { modelDir, prometheusHostPort: "19090", hostBindAddress: "0.0.0.0", prometheusRetention: "30d", scrapeJobName: "tfs", scrapeInterval: "10s" },
    });
    const prometheus = run.one(CONTAINER, "prometheus");
    expect(prometheus.inputs.ports).toEqual([expect.objectContaining({ external: 19090, ip: "0.0.0.0" })]);
    expect(prometheus.inputs.command).toContain("--storage.tsdb.retention.time=30d");
    const job = parse(upload(prometheus, PROMETHEUS_PATHS.config).content as string).scrape_configs[0];
    expect(job).toMatchObject({ job_name: "tfs", scrape_interval: "10s", scrape_timeout: "8s" });
    expect(upload(prometheus, PROMETHEUS_PATHS.rules).content).toContain('up{job="tfs"}');
    expect(run.outputs.prometheusUrl).toBe("http://127.0.0.1:19090");
  });

  it("a rules change replaces only the container: the data volume's inputs stay the same, so the TSDB is kept", async () => {
    const before = await runProgram({ stack: "dev", config: { modelDir } });
    const after = await runProgram({ stack: "dev", config: { modelDir, latencyP95ThresholdMs: "250" } });
    const rules = (run: typeof before) => upload(run.one(CONTAINER, "prometheus"), PROMETHEUS_PATHS.rules).content;
    expect(rules(after)).not.toEqual(rules(before));
    expect(after.one("docker:index/volume:Volume", "prometheus-data").inputs).toEqual(before.one("docker:index/volume:Volume", "prometheus-data").inputs);
  });

  it("with a webhook secret: an Alertmanager on the network, Prometheus alerting to it, the URL never in plain text", async () => {
    const run = await runProgram({
      stack: "dev",
      config: { modelDir, alertmanagerWebhookUrl: WEBHOOK },
      secretKeys: ["alertmanagerWebhookUrl"],
    });
    const alertmanager = run.one(CONTAINER, "alertmanager");
    expect(alertmanager.inputs).toMatchObject({ name: "tfserving-dev-alertmanager", image: DEFAULT_IMAGES.alertmanager, wait: true });
    expect(alertmanager.inputs.ports).toEqual([expect.objectContaining({ internal: 9093, external: 9093, ip: "127.0.0.1" })]);
    expect(alertmanager.inputs.networksAdvanced).toEqual([expect.objectContaining({ name: "tfserving-dev" })]);
    expect(alertmanager.inputs.volumes).toEqual([expect.objectContaining({ volumeName: "tfserving-dev-alertmanager-data" })]);

    const prometheusConfig = parse(upload(run.one(CONTAINER, "prometheus"), PROMETHEUS_PATHS.config).content as string);
    expect(prometheusConfig.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: ["tfserving-dev-alertmanager:9093"] }] }] });

    // The mocks see inputs as serialized for the engine: the uploads holding the webhook URL arrive as a secret.
    const secretUploads = alertmanager.inputs.uploads as Record<string, unknown>;
    expect(secretUploads[SECRET_SIG]).toBe(SECRET_VALUE);
    const [config] = secretUploads.value as Upload[];
    expect(config.file).toBe("/etc/alertmanager/alertmanager.yml");
    expect(parse(config.content as string).receivers[0].webhook_configs[0].url).toBe(WEBHOOK);
    // The webhook URL is no output at all; the secret ones are Grafana's admin password and the front door's keys and credential.
    expect([...run.secretOutputs].sort()).toEqual(["apiKeys", "grafanaAdminPassword", "metricsCredential"]);
    expect(JSON.stringify(run.outputs)).not.toContain(WEBHOOK);
    for (const resource of run.resources.filter((r) => r.name !== "alertmanager")) expect(JSON.stringify(resource.inputs)).not.toContain(WEBHOOK);
  });
});
