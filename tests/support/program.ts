import * as path from "node:path";
import { MockRunOptions, RegisteredResource, evaluateWithMocks } from "./mockProgram";

export type { RegisteredResource } from "./mockProgram";
export { MOCK_DEPLOYED, stackRunOptions } from "./mockProgram";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

export interface ProgramRun {
  resources: RegisteredResource[];
  /** Stack outputs with their resolved values. */
  outputs: Record<string, unknown>;
  /** Names of the stack outputs that are Pulumi secrets. */
  secretOutputs: Set<string>;
  byType(type: string): RegisteredResource[];
  one(type: string, name?: string): RegisteredResource;
}

export type RunOptions = MockRunOptions;

/**
 * Evaluates index.ts under Pulumi's mocks in a fresh module registry, so each run is a clean
 * program evaluation, and returns every registered resource with its inputs plus the stack outputs.
 */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  let result: Awaited<ReturnType<typeof evaluateWithMocks>> | undefined;
  await jest.isolateModulesAsync(async () => {
    const pulumi = await import("@pulumi/pulumi");
    result = await evaluateWithMocks(pulumi, () => import(path.join(PROJECT_DIR, "index")), options);
  });
  const { resources, outputs, secretOutputs } = result!;
  const byType = (type: string) => resources.filter((resource) => resource.type === type);
  return {
    resources,
    outputs,
    secretOutputs,
    byType,
    one(type: string, name?: string) {
      const matches = byType(type).filter((resource) => name === undefined || resource.name === name);
      if (matches.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`);
      }
      return matches[0];
    },
  };
}
