/**
 * Deploy markers: a Grafana annotation per deploy that changes what is served, kept when the next one is
 * made, and drawn on the dashboard's time-series panels by a tag query.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseStackConfig } from "../../components/config/stackConfig";
import { DEPLOY_TAG, deployMarkerTags, deployMarkerText } from "../../components/grafana/deployMarker";
import { dashboardInput, dashboardJson } from "../../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../../components/grafana/dataSource";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { MOCK_DEPLOYED, ProgramRun, runProgram, stackRunOptions } from "../support/program";

const ANNOTATION = "grafana:oss/annotation:Annotation";
const facts = { modelName: "diabetes-prediction", modelVersion: "3", imageRef: "tfserving-platform/diabetes-prediction:0123456789ab", stack: "dev" };

describe("deploy marker text and tags", () => {
  it("names the model version, the image (its tag is the build-context digest) and the stack; on Railway the deployment", () => {
    expect(deployMarkerText(facts)).toBe("Deployed diabetes-prediction version 3 (image tfserving-platform/diabetes-prediction:0123456789ab) to stack dev");
    expect(deployMarkerText({ ...facts, stack: "prod", railwayDeploymentId: "dep-42" })).toMatch(/to stack prod, Railway deployment dep-42$/);
    expect(deployMarkerTags(facts)).toEqual([DEPLOY_TAG, "diabetes-prediction", "version:3", "stack:dev"]);
  });
});

describe("the dashboard shows the markers", () => {
  const config = parseStackConfig({ stack: "dev", projectDir: "/project", values: { modelDir: "model" } });
  const json = JSON.parse(dashboardJson(dashboardInput(config, PROMETHEUS_DATA_SOURCE))) as {
    annotations: { list: Record<string, unknown>[] };
    panels: { type: string }[];
  };

  it("queries Grafana's annotations by the deploy and model tags, on every panel (no panel filter)", () => {
    const deploys = json.annotations.list.filter((query) => query.name === "Deploys");
    expect(deploys).toEqual([
      expect.objectContaining({
        datasource: { type: "grafana", uid: "-- Grafana --" },
        enable: true,
        hide: false,
        target: { type: "tags", tags: [DEPLOY_TAG, config.modelName], matchAny: false, limit: 100 },
      }),
    ]);
    expect(deploys[0]).not.toHaveProperty("filter");
    expect(json.panels.filter((panel) => panel.type === "timeseries").length).toBeGreaterThan(10);
  });
});

describe("deploy markers under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir(["1", "3"]);
  });
  afterAll(() => removeDir(modelDir));
  const marker = (run: ProgramRun) => run.one(ANNOTATION, "deploy-marker");

  it("dev: one marker after the serving container, through the stack's Grafana provider, an organization annotation with the deploy tags", async () => {
    const run = await runProgram(stackRunOptions("dev", modelDir));
    const annotation = marker(run);
    expect(annotation.inputs.tags).toEqual([DEPLOY_TAG, "diabetes-prediction", "version:3", "stack:dev"]);
    expect(annotation.inputs.text).toMatch(/^Deployed diabetes-prediction version 3 \(image tfserving-platform\/diabetes-prediction:[0-9a-f]{12}\) to stack dev$/);
    expect(annotation.inputs).not.toHaveProperty("dashboardUid");
    expect(annotation.inputs).not.toHaveProperty("time");
    expect(annotation.provider).toMatch(/pulumi:providers:grafana::grafana::/);
    const position = (type: string, name: string) => run.resources.indexOf(run.one(type, name));
    expect(position(ANNOTATION, "deploy-marker")).toBeGreaterThan(position("docker:index/container:Container", "serving"));
  });

  it("keeps every earlier marker: a new text replaces it create-first, and the old annotation is retained, on destroy too", async () => {
    const { options } = marker(await runProgram(stackRunOptions("dev", modelDir)));
    expect(options).toEqual({ retainOnDelete: true, replaceOnChanges: ["text"], ignoreChanges: [], deleteBeforeReplace: false });
  });

  it("changes the text exactly when what is served changes: same model, same text; a new version, a new text", async () => {
    const first = marker(await runProgram(stackRunOptions("dev", modelDir))).inputs.text;
    expect(marker(await runProgram(stackRunOptions("dev", modelDir))).inputs.text).toBe(first);
    // A threshold is no deploy.
    expect(marker(await runProgram(stackRunOptions("dev", modelDir, { extraConfig: { latencyP95ThresholdMs: "900" } }))).inputs.text).toBe(first);
    const newer = makeModelDir(["1", "3"]);
    try {
      fs.mkdirSync(path.join(newer, "4"));
      fs.cpSync(path.join(newer, "3"), path.join(newer, "4"), { recursive: true });
      const next = marker(await runProgram(stackRunOptions("dev", newer))).inputs.text as string;
      expect(next).toMatch(/version 4 /);
      expect(next).not.toBe(first);
    } finally {
      removeDir(newer);
    }
  });

  it("prod: the text names the Railway deployment", async () => {
    const run = await runProgram(stackRunOptions("prod", modelDir));
    expect(marker(run).inputs.text).toMatch(new RegExp(`to stack prod, Railway deployment ${MOCK_DEPLOYED.deploymentId}$`));
  });

  it("an existing Grafana gets the markers through its token provider", async () => {
    const run = await runProgram({
      stack: "dev",
      config: { modelDir, existingGrafanaUrl: "https://acme.grafana.net", existingGrafanaToken: "glsa_x", grafanaDataSourceUrl: "https://prom.example.com/api/prom" },
      secretKeys: ["existingGrafanaToken"],
    });
    expect(marker(run).provider).toMatch(/tfserving-platform:grafana:ExistingGrafana\$pulumi:providers:grafana::grafana::/);
  });
});
