/**
 * Bring your own Grafana: config checks that name the key, and the program under mocks writing its content
 * to the existing Grafana through a token-authenticated provider, with no Grafana container of its own.
 */
import { makeModelDir, removeDir } from "../support/modelFixture";
import { parse, problemsOf } from "../support/configParse";
import { ProgramRun, runProgram } from "../support/program";
import { isSecret, revealed } from "../support/secrets";


const CLOUD = "https://acme.grafana.net";
const CLOUD_PROMETHEUS = "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom";
const TOKEN = "glsa_token_under_test";

describe("existing Grafana config", () => {
  it("accepts Grafana Cloud with its Prometheus endpoint and a basic-auth login, trailing slashes dropped", () => {
    const config = parse({
      modelDir: "model",
      existingGrafanaUrl: `${CLOUD}/`,
      existingGrafanaToken: TOKEN,
      grafanaDataSourceUrl: `${CLOUD_PROMETHEUS}/`,
      grafanaDataSourceUsername: "123456",
      grafanaDataSourcePassword: "glc_password",
    });
    expect(config.externalGrafana).toEqual({ url: CLOUD, dataSourceUrl: CLOUD_PROMETHEUS, dataSourceUsername: "123456" });
    expect(config.secretsPresent.existingGrafanaToken).toBe(true);
  });

  it("accepts a Grafana on this host reading this stack's Prometheus; without the key the stack runs its own Grafana", () => {
    expect(parse({ modelDir: "model", existingGrafanaUrl: "http://localhost:3000", existingGrafanaToken: TOKEN }).externalGrafana).toEqual({ url: "http://localhost:3000" });
    expect(parse({ modelDir: "model" }).externalGrafana).toBeUndefined();
  });

  it("rejects a URL without a scheme, naming the key and showing the form", () => {
    expect(problemsOf({ modelDir: "model", existingGrafanaUrl: "acme.grafana.net", existingGrafanaToken: TOKEN, grafanaDataSourceUrl: CLOUD_PROMETHEUS })).toMatch(
      /tfserving-platform:existingGrafanaUrl: "acme\.grafana\.net" is not an http\(s\) URL with a scheme; run `pulumi config set tfserving-platform:existingGrafanaUrl https:\/\//,
    );
    expect(problemsOf({ modelDir: "model", existingGrafanaUrl: CLOUD, existingGrafanaToken: TOKEN, grafanaDataSourceUrl: "prometheus.example.com/api/prom" })).toMatch(
      /tfserving-platform:grafanaDataSourceUrl: "prometheus\.example\.com\/api\/prom" is not an http\(s\) URL/,
    );
  });

  it("requires the service-account token, saying where to create it, without echoing anything secret", () => {
    const message = problemsOf({ modelDir: "model", existingGrafanaUrl: CLOUD, grafanaDataSourceUrl: CLOUD_PROMETHEUS });
    expect(message).toMatch(/tfserving-platform:existingGrafanaToken: required with tfserving-platform:existingGrafanaUrl/);
    expect(message).toMatch(/Service accounts/);
    expect(message).toMatch(/pulumi config set --secret tfserving-platform:existingGrafanaToken/);
    // An empty secret counts as missing.
    expect(problemsOf({ modelDir: "model", existingGrafanaUrl: CLOUD, existingGrafanaToken: "", grafanaDataSourceUrl: CLOUD_PROMETHEUS })).toMatch(/existingGrafanaToken: required/);
  });

  it("refuses our Prometheus as the data source of a Grafana that is not on this host", () => {
    const message = problemsOf({ modelDir: "model", existingGrafanaUrl: CLOUD, existingGrafanaToken: TOKEN });
    expect(message).toMatch(/tfserving-platform:grafanaDataSourceUrl: the Grafana at https:\/\/acme\.grafana\.net is not on this host and cannot reach this stack's Prometheus/);
    expect(message).toMatch(/remoteWriteUrl/);
  });

  it("refuses data-source keys without an existing Grafana, and a password without a user", () => {
    expect(problemsOf({ modelDir: "model", grafanaDataSourceUrl: CLOUD_PROMETHEUS })).toMatch(/tfserving-platform:grafanaDataSourceUrl: only used with tfserving-platform:existingGrafanaUrl/);
    expect(problemsOf({ modelDir: "model", existingGrafanaToken: TOKEN })).toMatch(/tfserving-platform:existingGrafanaToken: only used with/);
    expect(
      problemsOf({ modelDir: "model", existingGrafanaUrl: CLOUD, existingGrafanaToken: TOKEN, grafanaDataSourceUrl: CLOUD_PROMETHEUS, grafanaDataSourcePassword: "pw" }),
    ).toMatch(/tfserving-platform:grafanaDataSourceUsername: required with tfserving-platform:grafanaDataSourcePassword/);
  });
});

describe("existing Grafana under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  const cloudRun = () =>
    runProgram({
      stack: "dev",
      config: {
        modelDir,
        existingGrafanaUrl: CLOUD,
        existingGrafanaToken: TOKEN,
        grafanaDataSourceUrl: CLOUD_PROMETHEUS,
        grafanaDataSourceUsername: "123456",
        grafanaDataSourcePassword: "glc_password",
      },
      secretKeys: ["existingGrafanaToken", "grafanaDataSourcePassword"],
    });
  const containers = (run: ProgramRun) => run.byType("docker:index/container:Container").map((container) => container.inputs.name);

  it("runs no Grafana container, volume or password, and logs in to the existing Grafana with the token, kept secret", async () => {
    const run = await cloudRun();
    expect(containers(run)).not.toContain("tfserving-dev-grafana");
    expect(containers(run)).toContain("tfserving-dev-prometheus");
    expect(run.byType("docker:index/volume:Volume").map((volume) => volume.name)).not.toContain("grafana-data");
    expect(run.byType("random:index/randomPassword:RandomPassword").map((password) => password.name)).not.toContain("grafana-admin-password");
    run.one("tfserving-platform:grafana:ExistingGrafana", "grafana");
    const provider = run.one("pulumi:providers:grafana", "grafana");
    expect(provider.inputs.url).toBe(CLOUD);
    expect(isSecret(provider.inputs.auth)).toBe(true);
    expect(revealed(provider.inputs.auth)).toBe(TOKEN);
    expect(JSON.stringify(run.resources.map((resource) => ({ ...resource, inputs: JSON.stringify(resource.inputs, (_k, v) => (isSecret(v) ? "[secret]" : v)) })))).not.toContain(TOKEN);
  });

  it("points the data source at the store, path kept and certificate checked, with its login in secure JSON data", async () => {
    const run = await cloudRun();
    const dataSource = run.one("grafana:oss/dataSource:DataSource");
    expect(dataSource.inputs).toMatchObject({ uid: "tfserving-prometheus", url: CLOUD_PROMETHEUS, basicAuthEnabled: true, basicAuthUsername: "123456" });
    expect(JSON.parse(dataSource.inputs.jsonDataEncoded as string)).not.toHaveProperty("tlsSkipVerify");
    expect(isSecret(dataSource.inputs.secureJsonDataEncoded)).toBe(true);
    expect(JSON.parse(revealed(dataSource.inputs.secureJsonDataEncoded) as string)).toEqual({ basicAuthPassword: "glc_password" });
    const grafanaTypes = run.resources.filter((resource) => resource.type.startsWith("grafana:")).map((resource) => resource.type);
    expect(grafanaTypes).toEqual(expect.arrayContaining(["grafana:oss/dataSource:DataSource", "grafana:oss/folder:Folder", "grafana:oss/dashboard:Dashboard"]));
  });

  it("keeps the output names and meaning: the Grafana's address and the dashboard in it; no admin login of ours", async () => {
    const run = await cloudRun();
    expect(run.outputs).toMatchObject({ grafanaUrl: CLOUD, dashboardUrl: `${CLOUD}/d/tfserving-diabetes-prediction`, grafanaAdminUser: "", grafanaAdminPassword: "" });
    expect(run.secretOutputs.has("grafanaAdminPassword")).toBe(true);
  });

  it("a Grafana on this host reads this stack's Prometheus at its host address", async () => {
    const run = await runProgram({
      stack: "dev",
      config: { modelDir, existingGrafanaUrl: "http://127.0.0.1:3300", existingGrafanaToken: TOKEN },
      secretKeys: ["existingGrafanaToken"],
    });
    expect(containers(run)).not.toContain("tfserving-dev-grafana");
    expect(run.one("grafana:oss/dataSource:DataSource").inputs).toMatchObject({ url: "http://127.0.0.1:9090" });
    expect(run.one("grafana:oss/dataSource:DataSource").inputs.basicAuthEnabled).toBeUndefined();
    expect(run.outputs.grafanaUrl).toBe("http://127.0.0.1:3300");
  });
});
