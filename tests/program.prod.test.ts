import { makeModelDir, removeDir } from "./support/modelFixture";
import { RegisteredResource, runProgram, stackRunOptions } from "./support/program";

const TOKEN = "prod-token-8c1e4b";
const COMMAND = "command:local:Command";

/** Pulumi's wire form of a secret, as the mocks see an input that holds one. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecret = (value: unknown) => typeof value === "object" && value !== null && (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === SECRET_SIG;
const unwrap = (value: unknown): unknown => (isSecret(value) ? (value as { value: unknown }).value : value);

function prodRun(modelDir: string, extraConfig: Record<string, string> = {}) {
  return runProgram(stackRunOptions("prod", modelDir, { token: TOKEN, extraConfig }));
}

/** Every place a string occurs in a resource's inputs, as property paths. */
function pathsContaining(value: unknown, needle: string, at = ""): string[] {
  if (typeof value === "string") return value.includes(needle) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => pathsContaining(item, needle, `${at}[${index}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, inner]) => pathsContaining(inner, needle, at ? `${at}.${key}` : key));
  }
  return [];
}

describe("prod stack (railway) under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it("registers the deploy command with the token only in its secret environment, and the context hash as a trigger", async () => {
    const run = await prodRun(modelDir);
    const deploy = run.one(COMMAND, "serving-deploy");
    expect(deploy.inputs.interpreter).toEqual(["node", "--require", "ts-node/register/transpile-only", "scripts/deploy-railway.ts"]);

    // The whole environment is a secret (it holds the token); the token appears nowhere else.
    expect(isSecret(deploy.inputs.environment)).toBe(true);
    const environment = unwrap(deploy.inputs.environment) as Record<string, string>;
    expect(environment).toMatchObject({
      RAILWAY_TOKEN: TOKEN,
      RAILWAY_CLI: "railway",
      DEPLOY_SERVICE: "diabetes-prediction",
      DEPLOY_CONTEXT_DIR: ".build/prod/tfserving",
      DEPLOY_REST_PORT: "8501",
      MODEL_NAME: "diabetes-prediction",
      TIMEOUT_SECONDS: "600",
    });
    expect(environment.RAILWAY_API_TOKEN).toBeUndefined();
    const everywhere = run.resources.flatMap((resource: RegisteredResource) =>
      pathsContaining(resource.inputs, TOKEN).map((where) => `${resource.type}/${resource.name}: ${where}`),
    );
    expect(everywhere).toEqual([`${COMMAND}/serving-deploy: environment.value.RAILWAY_TOKEN`]);
    expect(deploy.inputs.logging).toBe("stderr");

    // The last trigger is a digest of the front door's keys: a rotated key redeploys.
    expect(deploy.inputs.triggers).toEqual([run.outputs.contextHash, "diabetes-prediction", "production", expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(environment.DEPLOY_IMAGE_REF).toBe(run.outputs.imageRef);
    expect(run.byType("docker:index/image:Image")).toEqual([]);
  });

  it("derives the serving URLs, the domain and the scrape target from the command's final stdout line", async () => {
    const run = await prodRun(modelDir);
    expect(run.outputs).toMatchObject({
      deployTarget: "railway",
      servingUrl: "https://diabetes-prod.up.railway.app",
      modelStatusUrl: "https://diabetes-prod.up.railway.app/v1/models/diabetes-prediction",
      predictUrl: "https://diabetes-prod.up.railway.app/v1/models/diabetes-prediction:predict",
      metricsUrl: "https://diabetes-prod.up.railway.app/monitoring/prometheus/metrics",
      railwayDomain: "diabetes-prod.up.railway.app",
    });
    for (const name of ["servingUrl", "railwayDomain"]) expect(run.secretOutputs.has(name)).toBe(false);

    const prometheus = run.one("docker:index/container:Container", "prometheus");
    // Secret as a whole: one upload is the front door's scrape credential.
    expect(isSecret(prometheus.inputs.uploads)).toBe(true);
    const uploads = unwrap(prometheus.inputs.uploads) as { file: string; content: string }[];
    const prometheusYml = uploads.map((upload) => upload.content).join("\n");
    expect(prometheusYml).toContain("diabetes-prod.up.railway.app");
    expect(prometheusYml).toMatch(/scheme: https/);
  });

  it("uses an account token with project and environment ids when railwayProjectId is set", async () => {
    const run = await prodRun(modelDir, { railwayProjectId: "proj-123", railwayEnvironment: "staging", railwayCli: "/opt/railway" });
    const deploy = run.one(COMMAND, "serving-deploy");
    const environment = unwrap(deploy.inputs.environment) as Record<string, string>;
    expect(environment).toMatchObject({ RAILWAY_API_TOKEN: TOKEN, RAILWAY_PROJECT_ID: "proj-123", RAILWAY_ENVIRONMENT_ID: "staging", RAILWAY_CLI: "/opt/railway" });
    expect(environment.RAILWAY_TOKEN).toBeUndefined();
    expect(deploy.inputs.triggers).toEqual([run.outputs.contextHash, "diabetes-prediction", "staging", "proj-123", expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  it("dev registers no Railway command and exports an empty railwayDomain", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local" } });
    expect(run.byType(COMMAND).map((resource) => resource.name)).toEqual(["serving-ready"]);
    expect(run.byType("tfserving-platform:railway:RailwayService")).toEqual([]);
    expect(run.outputs.railwayDomain).toBe("");
  });

  it("fails at preview time, before any resource, when the Railway service or token is missing", async () => {
    await expect(runProgram({ stack: "prod", config: { modelDir, deployTarget: "railway" } })).rejects.toThrow(
      /tfserving-platform:railwayService: is required[\s\S]*tfserving-platform:railwayToken: is required/,
    );
  });
});
