import * as fs from "node:fs";
import * as path from "node:path";
import { makeModelDir, removeDir } from "./support/modelFixture";
import { ProgramRun, runProgram, stackRunOptions } from "./support/program";

/** `type/name` of every resource whose inputs differ between two runs (or exist in only one). */
function changedResources(before: ProgramRun, after: ProgramRun): string[] {
  const key = (resource: { type: string; name: string }) => `${resource.type}/${resource.name}`;
  const inputsOf = (run: ProgramRun) => new Map(run.resources.map((resource) => [key(resource), JSON.stringify(resource.inputs)]));
  const first = inputsOf(before);
  const second = inputsOf(after);
  const keys = new Set([...first.keys(), ...second.keys()]);
  return [...keys].filter((name) => first.get(name) !== second.get(name)).sort();
}

describe("program determinism", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir(["1763528202"]);
  });
  afterAll(() => removeDir(modelDir));

  it("gives identical inputs for every resource when nothing changed, so a no-op `pulumi up` does nothing", async () => {
    const first = await runProgram(stackRunOptions("dev", modelDir));
    const second = await runProgram(stackRunOptions("dev", modelDir));
    expect(first.resources.length).toBeGreaterThan(3);
    expect(changedResources(first, second)).toEqual([]);
    expect(second.outputs).toEqual(first.outputs);
  });

  it("leaks no absolute temp path or timestamp into any input", async () => {
    const run = await runProgram(stackRunOptions("dev", modelDir));
    const inputs = JSON.stringify(run.resources.map((resource) => resource.inputs));
    expect(inputs).not.toContain(modelDir);
    expect(inputs).not.toContain(path.resolve("."));
    expect(inputs).not.toMatch(/20\d\d-\d\d-\d\dT\d\d:\d\d/);
  });

  it("changes only the image, what runs it and the deploy marker when one byte of the model changes", async () => {
    const before = await runProgram(stackRunOptions("dev", modelDir));
    const weights = path.join(modelDir, "1763528202", "variables", "variables.data-00000-of-00001");
    const bytes = fs.readFileSync(weights);
    bytes[0] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    const after = await runProgram(stackRunOptions("dev", modelDir));
    expect(changedResources(before, after)).toEqual([
      "docker:index/container:Container/serving",
      "docker:index/image:Image/tfserving",
      "grafana:oss/annotation:Annotation/deploy-marker",
    ]);
    expect(after.outputs.contextHash).not.toBe(before.outputs.contextHash);
  });

  it("in prod, a changed model byte redeploys to Railway and marks the deploy, and changes nothing else", async () => {
    const prod = () => runProgram(stackRunOptions("prod", modelDir));
    const first = await prod();
    expect(changedResources(first, await prod())).toEqual([]);
    const weights = path.join(modelDir, "1763528202", "saved_model.pb");
    fs.appendFileSync(weights, "x");
    expect(changedResources(first, await prod())).toEqual(["command:local:Command/serving-deploy", "grafana:oss/annotation:Annotation/deploy-marker"]);
  });
});
