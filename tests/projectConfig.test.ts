import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PLAIN_KEYS, PROJECT, SECRET_KEYS, plainConfigSchema } from "../components/config/stackConfig";
import { PROJECT_DIR } from "./support/program";

interface DeclaredKey {
  type?: string;
  default?: unknown;
  secret?: boolean;
}

type StackValue = string | number | boolean | { secure: string };

const readYaml = (file: string) => parse(fs.readFileSync(path.join(PROJECT_DIR, file), "utf8")) ?? {};
const namespaced = (name: string) => (name.includes(":") ? name : `${PROJECT}:${name}`);

/**
 * What the Pulumi CLI refuses before it runs the program (ValidateStackConfigAndApplyProjectConfig): a key that
 * the project's `config:` block declares without a `default` and the stack's file does not set is missing, and
 * a key declared `secret: true` must be set with --secret.
 */
function cliConfigProblems(project: { config?: Record<string, DeclaredKey | string | number | boolean> }, stackFile: { config?: Record<string, StackValue> }): string[] {
  const stackValues = Object.fromEntries(Object.entries(stackFile.config ?? {}).map(([name, value]) => [namespaced(name), value]));
  const problems: string[] = [];
  for (const [name, declaration] of Object.entries(project.config ?? {})) {
    // A bare value is a project-wide value, not a declaration.
    if (typeof declaration !== "object" || declaration === null) continue;
    const value = stackValues[namespaced(name)];
    if (value === undefined && declaration.default === undefined) problems.push(`missing configuration value '${namespaced(name)}'`);
    if (value !== undefined && declaration.secret && !(typeof value === "object" && "secure" in value)) {
      problems.push(`'${namespaced(name)}' must be encrypted as it is secret`);
    }
  }
  return problems;
}

const project = readYaml("Pulumi.yaml");

describe("the Pulumi CLI accepts each stack's config as committed", () => {
  it("reports a declared key without default as missing (the rule the CLI applies)", () => {
    const declaring = { config: { [`${PROJECT}:modelDir`]: { type: "string" }, [`${PROJECT}:restPort`]: { type: "integer", default: 8501 } } };
    expect(cliConfigProblems(declaring, { config: {} })).toEqual([`missing configuration value '${PROJECT}:modelDir'`]);
    expect(cliConfigProblems(declaring, { config: { [`${PROJECT}:modelDir`]: "serving_model/x" } })).toEqual([]);
  });

  it.each(["dev", "prod"])("finds nothing missing for %s with only what Pulumi.<stack>.yaml sets", (stack) => {
    expect(cliConfigProblems(project, readYaml(`Pulumi.${stack}.yaml`))).toEqual([]);
  });

  it("declares no key with a default other than the schema's", () => {
    for (const [name, declaration] of Object.entries((project.config ?? {}) as Record<string, DeclaredKey>)) {
      const short = name.replace(`${PROJECT}:`, "") as (typeof PLAIN_KEYS)[number];
      expect(PLAIN_KEYS).toContain(short);
      const schemaDefault = plainConfigSchema.shape[short].safeParse(undefined);
      expect(schemaDefault.success && schemaDefault.data).toEqual(declaration.default);
    }
  });
});

describe("the README's configuration table lists exactly the keys the program reads", () => {
  const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
  const tableKeys = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...line.split("|")[1].matchAll(/`([A-Za-z0-9]+)`/g)].map((match) => match[1]));

  it("has a row for every key and no row for a key that does not exist", () => {
    expect([...new Set(tableKeys)].sort()).toEqual([...PLAIN_KEYS, ...SECRET_KEYS].sort());
  });
});
