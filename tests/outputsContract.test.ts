import * as fs from "node:fs";
import * as path from "node:path";
import { ALERT_NAMES, runbookUrl } from "../components/monitoring/rules";
import { makeModelDir, removeDir } from "./support/modelFixture";
import { PROJECT_DIR, runProgram, stackRunOptions } from "./support/program";

const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");

interface DocumentedOutput {
  name: string;
  type: "string";
  secret: boolean;
  stacks: string[];
}

/** The README's "Stack outputs" table: the contract other teams' programs read. */
function documentedOutputs(): DocumentedOutput[] {
  const section = readme.split(/^## Stack outputs$/m)[1].split(/^## /m)[0];
  return section
    .split("\n")
    .filter((line) => /^\| `/.test(line))
    .map((line) => {
      const [name, type, , stacks] = line.split("|").slice(1, -1).map((cell) => cell.trim());
      return {
        name: name.replace(/`/g, ""),
        type: type.split(",")[0].trim() as "string",
        secret: /secret/.test(type),
        stacks: stacks === "all" ? ["dev", "prod"] : stacks.split(",").map((stack) => stack.trim().replace(/`/g, "")),
      };
    });
}


describe("stack outputs contract", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it("documents at least the outputs other teams rely on", () => {
    const names = documentedOutputs().map((output) => output.name);
    for (const name of ["servingUrl", "modelStatusUrl", "predictUrl", "metricsUrl", "prometheusUrl", "grafanaUrl", "dashboardUrl"]) {
      expect(names).toContain(name);
    }
  });

  it.each(["dev", "prod"] as const)("%s exports exactly the documented outputs, with their types and secrecy", async (stack) => {
    const run = await runProgram(stackRunOptions(stack, modelDir));
    const expected = documentedOutputs().filter((output) => output.stacks.includes(stack));
    expect(Object.keys(run.outputs).sort()).toEqual(expected.map((output) => output.name).sort());
    for (const output of expected) {
      expect({ name: output.name, type: typeof run.outputs[output.name] }).toEqual({ name: output.name, type: output.type });
      expect({ name: output.name, secret: run.secretOutputs.has(output.name) }).toEqual({ name: output.name, secret: output.secret });
    }
  });

  it("shows a StackReference example that reads documented outputs", () => {
    const example = readme.match(/```ts\n([\s\S]*?new pulumi\.StackReference[\s\S]*?)```/);
    expect(example).not.toBeNull();
    const read = [...example![1].matchAll(/getOutput\("(\w+)"\)/g)].map((match) => match[1]);
    expect(read.length).toBeGreaterThan(0);
    for (const name of read) expect(documentedOutputs().map((output) => output.name)).toContain(name);
  });
});

describe("alert runbooks", () => {
  it.each(ALERT_NAMES)("%s has the README section its runbook_url points at", (alert) => {
    expect(readme).toMatch(new RegExp(`^### ${alert}$`, "m"));
    expect(runbookUrl(alert)).toBe(`README.md#${alert.toLowerCase()}`);
  });
});
