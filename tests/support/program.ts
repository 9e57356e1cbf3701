import * as path from "node:path";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

export interface ProgramRun {
  resources: RegisteredResource[];
  /** Stack outputs with their resolved values. */
  outputs: Record<string, unknown>;
  /** Names of the stack outputs that are Pulumi secrets. */
  secretOutputs: Set<string>;
  byType(type: string): RegisteredResource[];
  one(type: string, name?: string): RegisteredResource;
}

export interface RunOptions {
  stack: "dev" | "prod" | string;
  /** Config values without the project namespace; strings as Pulumi passes them. */
  config: Record<string, string>;
  /** Keys (without namespace) that are secrets. */
  secretKeys?: string[];
  /** Extra output state per resource (e.g. a command's stdout); inputs are echoed back already. */
  state?: (args: MockResourceArgs) => Record<string, unknown> | undefined;
  preview?: boolean;
}

/**
 * Evaluates index.ts under Pulumi's mocks in a fresh module registry, so each run is a clean
 * program evaluation, and returns every registered resource with its inputs plus the stack outputs.
 */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  const resources: RegisteredResource[] = [];
  let outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();

  await jest.isolateModulesAsync(async () => {
    const pulumi = await import("@pulumi/pulumi");
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.config)) config[`tfserving-platform:${key}`] = value;
    pulumi.runtime.setAllConfig(config, (options.secretKeys ?? []).map((key) => `tfserving-platform:${key}`));
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
          return { id: `${args.name}-id`, state: { ...args.inputs, ...(options.state?.(args) ?? {}) } };
        },
        call(args) {
          return args.inputs;
        },
      },
      "tfserving-platform",
      options.stack,
      options.preview ?? false,
    );
    const program: Record<string, unknown> = await import(path.join(PROJECT_DIR, "index"));
    const resolved: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(program)) {
      if (pulumi.Output.isInstance(value)) {
        resolved[name] = await new Promise((resolve) => value.apply((inner) => resolve(inner)));
        if (await pulumi.isSecret(value)) secretOutputs.add(name);
      } else {
        resolved[name] = value;
      }
    }
    outputs = resolved;
    await settle(() => resources.length);
  });

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

/** Waits until registrations stop arriving (bounded), since some happen inside apply callbacks. */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  for (let round = 0; round < 50 && count() !== last; round++) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
