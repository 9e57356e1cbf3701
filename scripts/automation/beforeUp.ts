/**
 * What `npm start` does between selecting the stack and its `up`: on a first deploy, look for what an
 * earlier stack of the same name left on the Docker host (scripts/automation/leftovers.ts); otherwise
 * refresh the Docker side of the state and decide what the `up` must replace
 * (scripts/automation/dockerState.ts). Every effect is a function in `BeforeUpEffects`, so tests drive
 * it with fakes modelled on the engine's and Docker's real answers.
 */
import { StateResource, builtImages, decideReplacements, refreshTargets } from "./dockerState";
import type { Stack } from "@pulumi/pulumi/automation";
import { UsageError } from "../cliFlags";
import { DockerObject, Leftovers, REMOVE_LEFTOVERS_FLAG, findLeftovers, leftoversLine, listDockerObjects, removeLeftovers } from "./leftovers";
import { StopLine, imagePresent } from "./preflight";

/** `npm start`'s arguments: `--remove-leftovers` is the only flag. */
export function parseStartFlags(argv: string[]): { removeLeftovers: boolean } {
  const unknown = argv.filter((arg) => arg !== REMOVE_LEFTOVERS_FLAG);
  if (unknown.length > 0) throw new UsageError(`npm start takes no arguments but ${REMOVE_LEFTOVERS_FLAG} (got ${unknown.join(" ")})`);
  return { removeLeftovers: argv.includes(REMOVE_LEFTOVERS_FLAG) };
}

export interface BeforeUpEffects {
  /** The resources of the stack's state (`stack.exportStack()`). */
  stateResources: () => Promise<StateResource[]>;
  /** `stack.refresh({ target })`. */
  refresh: (targets: string[]) => Promise<void>;
  imagePresent: (imageRef: string) => Promise<boolean>;
  listDockerObjects: () => Promise<DockerObject[]>;
  removeLeftovers: (leftovers: Leftovers) => Promise<void>;
  log: (line: string) => void;
}

/** The real effects for a stack: its exported state, a targeted refresh streamed like the `up`, and the Docker CLI. */
export function stackEffects(stack: Stack, stream: { onOutput: (chunk: string) => void; onError: (chunk: string) => void; signal?: AbortSignal }, log: (line: string) => void): BeforeUpEffects {
  return {
    stateResources: async () => ((await stack.exportStack()).deployment?.resources ?? []) as StateResource[],
    refresh: async (target) => {
      if (target.length > 0) await stack.refresh({ ...stream, target });
    },
    imagePresent: (imageRef) => imagePresent(imageRef),
    listDockerObjects: () => listDockerObjects(),
    removeLeftovers: (leftovers) => removeLeftovers(leftovers),
    log,
  };
}

export interface BeforeUpOptions {
  stackName: string;
  /** `npm start -- --remove-leftovers`: remove what is in the way instead of stopping. */
  removeLeftovers: boolean;
}

/** Returns the URNs the `up` must replace; throws StopLine with the one line to print when it must not run. */
export async function beforeUp(options: BeforeUpOptions, effects: BeforeUpEffects): Promise<string[]> {
  const before = await effects.stateResources();
  if (before.length === 0) {
    const leftovers = findLeftovers(await effects.listDockerObjects(), options.stackName);
    if (leftovers.inTheWay.length > 0) {
      if (!options.removeLeftovers) throw new StopLine(leftoversLine(leftovers, options.stackName));
      effects.log(`Removing what an earlier stack ${options.stackName} left: ${leftovers.inTheWay.map((object) => `${object.kind} ${object.name}`).join(", ")}.`);
      await effects.removeLeftovers(leftovers);
    }
    for (const kept of leftovers.kept) effects.log(`Taking over the volume ${kept.name} of an earlier stack ${options.stackName}: its Prometheus history continues.`);
    return [];
  }

  const targets = refreshTargets(before);
  effects.log(`pulumi refresh -s ${options.stackName}: ${targets.length} resources checked against the Docker host (Grafana's API resources are not: Grafana may be one of what vanished)`);
  await effects.refresh(targets);
  const afterRefresh = await effects.stateResources();
  const refs = builtImages(afterRefresh).map((image) => image.imageRef);
  const present = await Promise.all(refs.map((ref) => effects.imagePresent(ref)));
  const decision = decideReplacements({ before, afterRefresh, missingImages: refs.filter((_, index) => !present[index]) });
  decision.notes.forEach(effects.log);
  return decision.replace;
}
