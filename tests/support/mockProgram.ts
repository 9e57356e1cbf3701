import type * as PulumiModule from "@pulumi/pulumi";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  /** The options that decide what a change does, as the engine receives them. */
  options: ChangeOptions;
}

export interface ChangeOptions {
  retainOnDelete: boolean;
  replaceOnChanges: string[];
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
}

/** The part of a RegisterResourceRequest (the engine's protocol) that carries ChangeOptions. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getRetainondelete(): boolean;
  getReplaceonchangesList(): string[];
  getIgnorechangesList(): string[];
  getDeletebeforereplace(): boolean;
}

export interface MockRunOptions {
  stack: string;
  /** Config values without the project namespace (another namespace spelt out, e.g. `docker:host`); strings as Pulumi passes them. */
  config: Record<string, string>;
  /** Keys (without namespace) that are secrets. */
  secretKeys?: string[];
  /** Extra output state per resource (e.g. a command's stdout); inputs are echoed back already. */
  state?: (args: MockResourceArgs) => Record<string, unknown> | undefined;
  preview?: boolean;
}

export interface MockRunResult {
  resources: RegisteredResource[];
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
}

/**
 * Evaluates the program once under Pulumi's mocks: sets config and mocks on the given @pulumi/pulumi
 * instance, loads the program, resolves its stack outputs and waits for registrations to settle.
 * Used by the Jest harness (in a fresh module registry per run) and by the benchmark (a process per run).
 */
export async function evaluateWithMocks(
  pulumi: typeof PulumiModule,
  loadProgram: () => Promise<Record<string, unknown>>,
  options: MockRunOptions,
): Promise<MockRunResult> {
  const resources: RegisteredResource[] = [];
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.config)) config[key.includes(":") ? key : `tfserving-platform:${key}`] = value;
  pulumi.runtime.setAllConfig(config, (options.secretKeys ?? []).map((key) => `tfserving-platform:${key}`));
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const seen = changeOptions.get(`${args.type}::${args.name}`) ?? { retainOnDelete: false, replaceOnChanges: [], ignoreChanges: [], deleteBeforeReplace: false };
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, options: seen });
        // A preview knows only the inputs: what a provider computes (stdout, results) stays unknown.
        const computed = options.preview ? {} : { ...providerComputed(args), ...(options.state?.(args) ?? {}) };
        return { id: options.preview ? undefined : `${args.name}-id`, state: { ...args.inputs, ...computed } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "tfserving-platform",
    options.stack,
    options.preview ?? false,
  );
  // The mocks see inputs only: the options go to the engine in the same request, read here on the way.
  const changeOptions = new Map<string, ChangeOptions>();
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(request: RegisterRequest, callback: unknown): unknown };
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    changeOptions.set(`${request.getType()}::${request.getName()}`, {
      retainOnDelete: request.getRetainondelete(),
      replaceOnChanges: request.getReplaceonchangesList(),
      ignoreChanges: request.getIgnorechangesList(),
      deleteBeforeReplace: request.getDeletebeforereplace(),
    });
    return registerResource(request, callback);
  };
  const program = await loadProgram();
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [name, value] of Object.entries(program)) {
    if (pulumi.Output.isInstance(value)) {
      // During a preview an output may stay unknown and its apply never runs; isKnown/promise are the
      // SDK's own (untyped) accessors for that state.
      const internal = value as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
      outputs[name] = (await internal.isKnown) ? await internal.promise() : UNKNOWN_DURING_PREVIEW;
      if (await pulumi.isSecret(value)) secretOutputs.add(name);
    } else {
      outputs[name] = value;
    }
  }
  await settle(() => resources.length);
  return { resources, outputs, secretOutputs };
}

/** Stands for a stack output whose value only `pulumi up` can know. */
export const UNKNOWN_DURING_PREVIEW = "<unknown during preview>";

/** What the mocked Railway deploy command reports on its last stdout line. */
export const MOCK_DEPLOYED = { host: "diabetes-prod.up.railway.app", url: "https://diabetes-prod.up.railway.app", deploymentId: "dep-42" };

/** prod's API keys (config apiKeys, a secret map of consumer to key). */
export const MOCK_API_KEYS = { "team-a": "teamA-key-5b9e2f7c1d3a8e4b6f0c2d9a7e1b3c5f", "team-b": "teamB-key-0c4e8a2f6b1d9e3c7a5f2b8d4e0a6c1f" };

/**
 * Run options for the project's stacks as their stack files set them: `dev` on local Docker, `prod`
 * on Railway with a secret token and a deploy command whose stdout ends with MOCK_DEPLOYED.
 */
export function stackRunOptions(
  stack: "dev" | "prod",
  modelDir: string | undefined,
  { token = "prod-token-8c1e4b", extraConfig = {} }: { token?: string; extraConfig?: Record<string, string> } = {},
): MockRunOptions {
  // No modelDir: dev then serves the bundled demo model and prod refuses to run.
  const model: Record<string, string> = modelDir === undefined ? {} : { modelDir };
  if (stack === "dev") return { stack, config: { ...model, deployTarget: "local", ...extraConfig } };
  return {
    stack,
    config: { ...model, deployTarget: "railway", railwayService: "diabetes-prediction", railwayToken: token, apiKeys: JSON.stringify(MOCK_API_KEYS), ...extraConfig },
    secretKeys: ["railwayToken", "apiKeys"],
    state: (args) => (args.type === "command:local:Command" ? { stdout: `Deploying...\n${JSON.stringify(MOCK_DEPLOYED)}\n` } : undefined),
  };
}

/** Outputs a real provider computes rather than echoes, so stack outputs built from them resolve. */
function providerComputed(args: MockResourceArgs): Record<string, unknown> {
  if (args.type === "random:index/randomPassword:RandomPassword") return { result: `mock-password-${args.name}` };
  return {};
}

/** Waits until registrations stop arriving (bounded), since some happen inside apply callbacks. */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  for (let round = 0; round < 50 && count() !== last; round++) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
