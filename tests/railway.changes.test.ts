import { makeModelDir, removeDir } from "./support/modelFixture";
import { RegisteredResource, runProgram, stackRunOptions } from "./support/program";
import { revealed } from "./support/secrets";

/**
 * What a config change does to the Railway deploy command on the next `pulumi up`. The engine replaces a
 * resource when an input named in its replaceOnChanges changes (the command SDK registers `triggers[*]`);
 * a change of any other input is an update, which runs the command's `update` (or `create` without one).
 */
const COMMAND = "command:local:Command";

type Outcome = "nothing" | "update: keep-deployment" | "replace: deploy";

function outcome(before: RegisteredResource, after: RegisteredResource): Outcome {
  expect(after.options.replaceOnChanges).toEqual(["triggers[*]"]);
  if (JSON.stringify(after.inputs.triggers) !== JSON.stringify(before.inputs.triggers)) return "replace: deploy";
  const otherInputs = (resource: RegisteredResource) =>
    JSON.stringify(Object.entries(resource.inputs).flatMap(([key, value]) => (key === "triggers" ? [] : [[key, revealed(value)]])));
  if (otherInputs(before) === otherInputs(after)) return "nothing";
  return after.inputs.update === undefined ? "replace: deploy" : `update: ${after.inputs.update}` as Outcome;
}

describe("the Railway deploy runs again only when what is deployed, or where, changes", () => {
  let modelDir: string;
  let otherModelDir: string;
  let base: RegisteredResource;
  beforeAll(async () => {
    modelDir = makeModelDir();
    otherModelDir = makeModelDir(["1763528202", "1763600000"]);
    base = (await runProgram(stackRunOptions("prod", modelDir))).one(COMMAND, "serving-deploy");
  });
  afterAll(() => {
    removeDir(modelDir);
    removeDir(otherModelDir);
  });

  async function deployCommandWith(change: { token?: string; modelDir?: string; extraConfig?: Record<string, string> }) {
    const run = await runProgram(stackRunOptions("prod", change.modelDir ?? modelDir, { token: change.token, extraConfig: change.extraConfig }));
    return run.one(COMMAND, "serving-deploy");
  }

  it.each<[string, Outcome, Parameters<typeof deployCommandWith>[0]]>([
    ["no change", "nothing", {}],
    ["a rotated token", "update: keep-deployment", { token: "rotated-token-77" }],
    ["another railwayCli", "update: keep-deployment", { extraConfig: { railwayCli: "/usr/local/bin/railway" } }],
    ["another readinessTimeoutSeconds", "update: keep-deployment", { extraConfig: { readinessTimeoutSeconds: "900" } }],
    ["a new model version (build context digest)", "replace: deploy", { modelDir: "other" }],
    ["another railwayService", "replace: deploy", { extraConfig: { railwayService: "diabetes-canary" } }],
    ["another railwayEnvironment", "replace: deploy", { extraConfig: { railwayEnvironment: "staging" } }],
    ["a railwayProjectId (an account token's project)", "replace: deploy", { extraConfig: { railwayProjectId: "proj-123" } }],
  ])("%s: %s", async (_change, expected, change) => {
    const after = await deployCommandWith(change.modelDir === "other" ? { ...change, modelDir: otherModelDir } : change);
    expect(outcome(base, after)).toBe(expected);
  });
});
