import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import { DEFAULT_IMAGES } from "../../components/config/versions";
import { PANEL_TITLES } from "../../components/grafana/dashboard";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { ProgramRun, RegisteredResource, runProgram } from "../support/program";
import { SECRET_SIG, SECRET_VALUE } from "../support/secrets";

const CONTAINER = "docker:index/container:Container";
const PROVIDER = "pulumi:providers:grafana";
const PASSWORD = "pw-from-the-mocked-random-provider";

const isSecret = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
const revealed = (value: unknown) => (isSecret(value) ? value.value : value);
/** The inputs as anyone reading plain state would see them: secrets blanked out. */
const plainText = (value: unknown) => JSON.stringify(value, (_key, item) => (isSecret(item) ? "[secret]" : item));

/** The random provider would generate the password; the mocks only echo inputs, so give it one. */
function mockState(extra?: (args: MockResourceArgs) => Record<string, unknown> | undefined) {
  return (args: MockResourceArgs) => ({
    ...(args.type === "random:index/randomPassword:RandomPassword" ? { result: PASSWORD } : {}),
    ...(extra?.(args) ?? {}),
  });
}

const grafanaResources = (run: ProgramRun) => run.resources.filter((resource) => resource.type.startsWith("grafana:"));
const dashboardOf = (run: ProgramRun) => run.one("grafana:oss/dashboard:Dashboard");
const envs = (container: RegisteredResource) => revealed(container.inputs.envs) as string[];

describe("Grafana under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it("dev: a health-gated Grafana on the stack network, loopback-bound, its database in a named volume", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    run.one("tfserving-platform:grafana:Grafana", "grafana");
    const grafana = run.one(CONTAINER, "grafana");

    expect(grafana.inputs).toMatchObject({ name: "tfserving-dev-grafana", image: DEFAULT_IMAGES.grafana, wait: true, restart: "unless-stopped" });
    expect(grafana.inputs.ports).toEqual([expect.objectContaining({ internal: 3000, external: 3000, ip: "127.0.0.1" })]);
    expect(grafana.inputs.networksAdvanced).toEqual([expect.objectContaining({ name: "tfserving-dev", aliases: ["tfserving-dev-grafana"] })]);
    expect((grafana.inputs.healthcheck as { tests: string[] }).tests).toEqual(["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/api/health"]);

    const volume = run.one("docker:index/volume:Volume", "grafana-data");
    expect(volume.inputs.name).toBe("tfserving-dev-grafana-data");
    expect(grafana.inputs.volumes).toEqual([expect.objectContaining({ volumeName: "tfserving-dev-grafana-data", containerPath: "/var/lib/grafana" })]);

    expect(envs(grafana)).toEqual(
      expect.arrayContaining(["GF_SECURITY_ADMIN_USER=admin", `GF_SECURITY_ADMIN_PASSWORD=${PASSWORD}`, "GF_USERS_ALLOW_SIGN_UP=false", "GF_AUTH_ANONYMOUS_ENABLED=false"]),
    );

    expect(run.outputs).toMatchObject({
      grafanaUrl: "http://127.0.0.1:3000",
      dashboardUrl: "http://127.0.0.1:3000/d/tfserving-diabetes-prediction",
      grafanaAdminUser: "admin",
      prometheusUrl: "http://127.0.0.1:9090",
    });
  });

  it("configures the provider from the container's published port and the generated password", async () => {
    // The engine reports the container's actual state; a port that differs from config proves where the URL comes from.
    const run = await runProgram({
      stack: "dev",
      config: { modelDir },
      state: mockState((args) => (args.type === CONTAINER && args.name === "grafana" ? { ports: [{ internal: 3000, external: 43000, ip: "127.0.0.1" }] } : undefined)),
    });
    const provider = run.one(PROVIDER, "grafana");
    expect(provider.inputs.url).toBe("http://127.0.0.1:43000");
    expect(isSecret(provider.inputs.auth)).toBe(true);
    expect(revealed(provider.inputs.auth)).toBe(`admin:${PASSWORD}`);
    expect(run.outputs.grafanaUrl).toBe("http://127.0.0.1:43000");
    expect(run.outputs.dashboardUrl).toBe("http://127.0.0.1:43000/d/tfserving-diabetes-prediction");
  });

  it("sends every Grafana resource through that provider, registered only after the container", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    const providerRef = `urn:pulumi:dev::tfserving-platform::tfserving-platform:grafana:Grafana$${PROVIDER}::grafana::grafana-id`;
    const resources = grafanaResources(run);
    expect(resources.map((resource) => resource.type).sort()).toEqual([
      "grafana:oss/annotation:Annotation",
      "grafana:oss/dashboard:Dashboard",
      "grafana:oss/dataSource:DataSource",
      "grafana:oss/folder:Folder",
    ]);
    for (const resource of resources) expect({ name: resource.name, provider: resource.provider }).toEqual({ name: resource.name, provider: providerRef });

    // The mocks do not report dependsOn. What they do show: the provider's URL is read from the container's
    // state (previous test), so the provider, and every resource using it, registers after the container.
    const position = (resource: RegisteredResource) => run.resources.indexOf(resource);
    const container = position(run.one(CONTAINER, "grafana"));
    expect(position(run.one(PROVIDER, "grafana"))).toBeGreaterThan(container);
    for (const resource of resources) expect(position(resource)).toBeGreaterThan(container);
  });

  it("keeps the admin password secret: a secret output, secret in the container's env and the provider's auth, nowhere in plain text", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    expect(run.secretOutputs).toEqual(new Set(["apiKeys", "grafanaAdminPassword", "metricsCredential"]));
    expect(run.outputs.grafanaAdminPassword).toBe(PASSWORD);
    expect(isSecret(run.one(CONTAINER, "grafana").inputs.envs)).toBe(true);

    // The mocked random provider gives every generated password the same value (the front door's dev key too).
    const plainOutputs = Object.entries(run.outputs).filter(([name]) => !run.secretOutputs.has(name));
    expect(JSON.stringify(plainOutputs)).not.toContain(PASSWORD);
    for (const resource of run.resources) expect({ name: resource.name, inputs: plainText(resource.inputs) }).not.toEqual({ name: resource.name, inputs: expect.stringContaining(PASSWORD) });
  });

  it("points the default data source at the Prometheus container over the stack network, POST, at the scrape interval", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, scrapeInterval: "10s" }, state: mockState() });
    const prometheus = run.one(CONTAINER, "prometheus");
    const grafana = run.one(CONTAINER, "grafana");
    const dataSource = run.one("grafana:oss/dataSource:DataSource");

    expect(dataSource.inputs.url).toBe(`http://${prometheus.inputs.name}:9090`);
    // Reachable by that name: Prometheus carries it as an alias on the network Grafana is on.
    const network = (container: RegisteredResource) => (container.inputs.networksAdvanced as { name: string; aliases?: string[] }[])[0];
    expect(network(prometheus).aliases).toContain(prometheus.inputs.name);
    expect(network(grafana).name).toBe(network(prometheus).name);

    expect(dataSource.inputs).toMatchObject({ type: "prometheus", uid: "tfserving-prometheus", isDefault: true, accessMode: "proxy" });
    expect(JSON.parse(dataSource.inputs.jsonDataEncoded as string)).toMatchObject({ httpMethod: "POST", timeInterval: "10s" });

    const panels = JSON.parse(dashboardOf(run).inputs.configJson as string).panels as { title: string; datasource?: { uid: string } }[];
    expect(panels.find((panel) => panel.title === PANEL_TITLES.throughput)!.datasource!.uid).toBe(dataSource.inputs.uid);
  });

  it("saves the dashboard in its folder, overwriting, with the title and thresholds from config", async () => {
    const run = await runProgram({
      stack: "dev",
      config: { modelDir, dashboardTitle: "Diabetes, by Pulumi", latencyP95ThresholdMs: "250", grafanaAdminUser: "ops", grafanaHostPort: "13000", hostBindAddress: "0.0.0.0" },
      state: mockState(),
    });
    const dashboard = dashboardOf(run);
    expect(dashboard.inputs.overwrite).toBe(true);
    expect(dashboard.inputs.folder).toBe(run.one("grafana:oss/folder:Folder").inputs.uid);
    const model = JSON.parse(dashboard.inputs.configJson as string);
    expect(model.title).toBe("Diabetes, by Pulumi");
    const latency = model.panels.find((panel: { title: string }) => panel.title === PANEL_TITLES.latencyQuantiles);
    expect(latency.fieldConfig.defaults.thresholds.steps).toContainEqual({ value: 250, color: "red" });

    const grafana = run.one(CONTAINER, "grafana");
    expect(grafana.inputs.ports).toEqual([expect.objectContaining({ internal: 3000, external: 13000, ip: "0.0.0.0" })]);
    expect(envs(grafana)).toContain("GF_SECURITY_ADMIN_USER=ops");
    // A bind-all address is reached from this host through loopback.
    expect(run.one(PROVIDER, "grafana").inputs.url).toBe("http://127.0.0.1:13000");
    expect(revealed(run.one(PROVIDER, "grafana").inputs.auth)).toBe(`ops:${PASSWORD}`);
    expect(run.outputs.grafanaAdminUser).toBe("ops");
  });

  it("has no perpetual diff: two evaluations give byte-identical configJson and data source settings", async () => {
    const first = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    const second = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    expect(dashboardOf(second).inputs.configJson).toBe(dashboardOf(first).inputs.configJson);
    expect(second.one("grafana:oss/dataSource:DataSource").inputs).toEqual(first.one("grafana:oss/dataSource:DataSource").inputs);
  });

  it("a dashboard change leaves the Grafana container and its volume untouched", async () => {
    const before = await runProgram({ stack: "dev", config: { modelDir }, state: mockState() });
    const after = await runProgram({ stack: "dev", config: { modelDir, errorRatioThreshold: "0.2" }, state: mockState() });
    expect(dashboardOf(after).inputs.configJson).not.toBe(dashboardOf(before).inputs.configJson);
    expect(after.one(CONTAINER, "grafana").inputs).toEqual(before.one(CONTAINER, "grafana").inputs);
    expect(after.one("docker:index/volume:Volume", "grafana-data").inputs).toEqual(before.one("docker:index/volume:Volume", "grafana-data").inputs);
  });
});
