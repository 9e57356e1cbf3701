import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PLAIN_KEYS, SECRET_KEYS, plainConfigSchema } from "../components/config/stackConfig";
import { PROJECT_DIR } from "./support/program";

interface DeclaredKey {
  type?: string;
  default?: unknown;
  secret?: boolean;
  description?: string;
}

const project = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"));
const declared: Record<string, DeclaredKey> = Object.fromEntries(
  Object.entries(project.config as Record<string, DeclaredKey>).map(([key, value]) => [key.replace(/^tfserving-platform:/, ""), value]),
);
const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");

describe("Pulumi.yaml and the README document exactly the keys the program reads", () => {
  const allKeys = [...PLAIN_KEYS, ...SECRET_KEYS].sort();

  it("declares every key, and no other, under the project namespace", () => {
    expect(Object.keys(project.config).every((key) => key.startsWith("tfserving-platform:"))).toBe(true);
    expect(Object.keys(declared).sort()).toEqual(allKeys);
  });

  it.each(PLAIN_KEYS)("gives %s the schema's default, if any", (key) => {
    const schemaDefault = plainConfigSchema.shape[key].safeParse(undefined);
    const declaredDefault = declared[key].default;
    if (declaredDefault !== undefined) {
      expect(schemaDefault.success && schemaDefault.data).toEqual(declaredDefault);
    } else if (schemaDefault.success && schemaDefault.data !== undefined) {
      // Pulumi.yaml cannot type a fraction; the description must then state the default.
      expect(declared[key].description).toContain(`default ${schemaDefault.data}`);
    }
  });

  it("marks the secret keys secret", () => {
    for (const key of SECRET_KEYS) expect(declared[key].secret).toBe(true);
  });

  it.each(allKeys)("lists %s in the README configuration table", (key) => {
    expect(readme).toMatch(new RegExp(`^\\|[^\\n]*\`${key}\``, "m"));
  });
});
