/**
 * Docker objects an earlier stack of the same name left behind (its state lost: `.pulumi-local/`
 * deleted, `stack rm --force`, another backend). Before a stack's first `up` they would collide with
 * the fixed names the program gives (`network with name tfserving-dev already exists`), and a kept
 * Grafana database would hold another admin password, data source and dashboard.
 *
 * Decision: stop with one line naming them and the one command that removes them, rather than remove
 * or adopt on our own: a name match alone may be the user's own object, and a removed volume cannot
 * come back. The Prometheus data volume is never in the way (Docker hands an existing volume back to
 * a create of the same name), so it is kept and taken over: the new stack's Prometheus continues its
 * history. Objects are ours when labelled with the stack (the program labels what it creates) or,
 * for objects made before labels, when they carry the exact names index.ts and components/ give them.
 */
import { STACK_LABEL } from "../../components/shared/dockerLabels";
import { Runner, firstLine, runQuiet } from "./preflight";


export type DockerKind = "container" | "network" | "volume";

export interface DockerObject {
  kind: DockerKind;
  name: string;
  /** The value of STACK_LABEL, "" when unlabelled. */
  stackLabel: string;
}

export interface Leftovers {
  /** What the first `up` would collide with, containers first (the order they must be removed in). */
  inTheWay: DockerObject[];
  /** The Prometheus history volume, taken over by the new stack. */
  kept: DockerObject[];
}

/** The names index.ts and components/ give a stack's objects (`tfserving-<stack>` is index.ts's stackPrefix). */
export function fixedNames(stackName: string): Record<DockerKind, string[]> {
  const prefix = `tfserving-${stackName}`;
  return {
    container: ["serving", "prometheus", "grafana", "alertmanager"].map((part) => `${prefix}-${part}`),
    network: [prefix],
    volume: ["prometheus", "grafana", "alertmanager"].map((part) => `${prefix}-${part}-data`),
  };
}

/** The volume whose history the next stack continues. */
export const keptVolume = (stackName: string) => `tfserving-${stackName}-prometheus-data`;

/** Exact names only: `tfserving-dev-*` would also match a stack named `dev-2`. A label of another stack wins over a name. */
export function findLeftovers(objects: DockerObject[], stackName: string): Leftovers {
  const names = fixedNames(stackName);
  const ours = objects.filter((object) => (object.stackLabel === "" ? names[object.kind].includes(object.name) : object.stackLabel === stackName));
  const order: DockerKind[] = ["container", "network", "volume"];
  ours.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
  const isKept = (object: DockerObject) => object.kind === "volume" && object.name === keptVolume(stackName);
  return { inTheWay: ours.filter((object) => !isKept(object)), kept: ours.filter(isKept) };
}

/** `--format` lines `<name>\t<label value>` of `docker <kind> ls`. */
export function parseListing(kind: DockerKind, output: string): DockerObject[] {
  return output
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [name, stackLabel = ""] = line.split("\t");
      return { kind, name: name.trim(), stackLabel: stackLabel.trim() };
    });
}

/** Every container (running or not), network and volume on the engine, with its stack label. */
export async function listDockerObjects(run: Runner = runQuiet): Promise<DockerObject[]> {
  const format = (name: string) => `${name}\t{{.Label "${STACK_LABEL}"}}`;
  const commands: [DockerKind, string[]][] = [
    ["container", ["container", "ls", "--all", "--format", format("{{.Names}}")]],
    ["network", ["network", "ls", "--format", format("{{.Name}}")]],
    ["volume", ["volume", "ls", "--format", format("{{.Name}}")]],
  ];
  const listings = await Promise.all(
    commands.map(async ([kind, args]) => {
      const result = await run("docker", args, 30_000);
      if (result.error || result.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(" ")} failed: ${firstLine(result.error ?? result.output)}`);
      return parseListing(kind, result.output);
    }),
  );
  return listings.flat();
}

/** The flag of `npm start` that removes what is in the way (scripts/start.ts). */
export const REMOVE_LEFTOVERS_FLAG = "--remove-leftovers";

/** The one line `npm start` stops with. */
export function leftoversLine(leftovers: Leftovers, stackName: string): string {
  const byKind = (kind: DockerKind) => {
    const names = leftovers.inTheWay.filter((object) => object.kind === kind).map((object) => object.name);
    return names.length === 0 ? [] : [`${kind}${names.length === 1 ? "" : "s"} ${names.join(", ")}`];
  };
  const objects = [...byKind("container"), ...byKind("network"), ...byKind("volume")].join("; ");
  const kept = leftovers.kept.length > 0 ? ` (the Prometheus history in ${keptVolume(stackName)} is kept and continues in the new stack; \`docker volume rm ${keptVolume(stackName)}\` drops it)` : "";
  return (
    `Stack ${stackName} has no state yet, but an earlier stack ${stackName} left Docker objects its first deploy would collide with: ${objects}. ` +
    `Remove them with \`npm start -- ${REMOVE_LEFTOVERS_FLAG}\`${kept}.`
  );
}

/** Removes what is in the way: containers first (they hold the network and volumes), then the network, then the volumes. */
export async function removeLeftovers(leftovers: Leftovers, run: Runner = runQuiet): Promise<void> {
  const steps: [DockerKind, string[]][] = [
    ["container", ["rm", "--force"]],
    ["network", ["network", "rm"]],
    ["volume", ["volume", "rm"]],
  ];
  for (const [kind, command] of steps) {
    const names = leftovers.inTheWay.filter((object) => object.kind === kind).map((object) => object.name);
    if (names.length === 0) continue;
    const result = await run("docker", [...command, ...names], 120_000);
    if (result.error || result.code !== 0) throw new Error(`docker ${command.join(" ")} ${names.join(" ")} failed: ${firstLine(result.error ?? result.output)}`);
  }
}
