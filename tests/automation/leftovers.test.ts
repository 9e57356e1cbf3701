import { STACK_LABEL } from "../../components/shared/dockerLabels";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findLeftovers, fixedNames, keptVolume, leftoversLine, listDockerObjects, parseListing, removeLeftovers } from "../../scripts/automation/leftovers";
import { buildStandinServingBase, docker, requireDocker, uniqueSuffix } from "../support/docker";

describe("leftovers of an earlier stack on a real Docker engine", () => {
  // A stack name of its own: other test runs share the engine.
  const stack = `lo${uniqueSuffix()}`;
  const names = fixedNames(stack);
  const image = `tfserving-platform-test/leftovers:${uniqueSuffix()}`;
  let workDir: string;
  const created: { kind: "container" | "network" | "volume"; name: string }[] = [];
  const create = (kind: "container" | "network" | "volume", name: string, args: string[]) => {
    docker(kind === "container" ? ["container", "create", "--name", name, ...args] : [kind, "create", ...args, name]);
    created.push({ kind, name });
  };

  beforeAll(() => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "leftovers-"));
    buildStandinServingBase(workDir, image);
    // Made before labels existed: the fixed names only.
    create("network", names.network[0], []);
    create("volume", names.volume[0], []); // tfserving-<stack>-prometheus-data
    create("volume", names.volume[1], []); // tfserving-<stack>-grafana-data
    create("container", names.container[0], [image, "sleep", "3600"]); // tfserving-<stack>-serving
    // Made by a labelling program: found by its label whatever its name.
    create("container", `renamed-${stack}`, ["--label", `${STACK_LABEL}=${stack}`, image, "sleep", "3600"]);
    // Not ours: another stack whose name starts the same, and our name under another stack's label.
    create("volume", `tfserving-${stack}-2-grafana-data`, []);
    create("volume", names.volume[2], ["--label", `${STACK_LABEL}=other-${stack}`]);
  }, 180_000);

  afterAll(() => {
    for (const { kind, name } of [...created].reverse()) spawnSync("docker", kind === "container" ? ["rm", "-f", name] : [kind, "rm", name], { timeout: 60_000 });
    spawnSync("docker", ["image", "rm", "-f", image], { timeout: 60_000 });
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  }, 120_000);

  it("lists the engine's containers, networks and volumes with their stack label, finds the stack's, and says so in one line", async () => {
    const objects = await listDockerObjects();
    expect(objects).toEqual(expect.arrayContaining([{ kind: "container", name: `renamed-${stack}`, stackLabel: stack }, { kind: "network", name: names.network[0], stackLabel: "" }]));
    const found = findLeftovers(objects, stack);
    expect(found.inTheWay.map((object) => `${object.kind} ${object.name}`)).toEqual([
      `container renamed-${stack}`,
      `container tfserving-${stack}-serving`,
      `network tfserving-${stack}`,
      `volume tfserving-${stack}-grafana-data`,
    ]);
    expect(found.kept.map((object) => object.name)).toEqual([keptVolume(stack)]);
    expect(leftoversLine(found, stack)).toBe(
      `Stack ${stack} has no state yet, but an earlier stack ${stack} left Docker objects its first deploy would collide with: ` +
        `containers renamed-${stack}, tfserving-${stack}-serving; network tfserving-${stack}; volume tfserving-${stack}-grafana-data. ` +
        `Remove them with \`npm start -- --remove-leftovers\` (the Prometheus history in tfserving-${stack}-prometheus-data is kept and continues in the new stack; ` +
        `\`docker volume rm tfserving-${stack}-prometheus-data\` drops it).`,
    );
  }, 60_000);

  it("removes what is in the way and nothing else; the kept volume is handed back by a create of the same name", async () => {
    await removeLeftovers(findLeftovers(await listDockerObjects(), stack));
    const after = findLeftovers(await listDockerObjects(), stack);
    expect(after.inTheWay).toEqual([]);
    expect(after.kept.map((object) => object.name)).toEqual([keptVolume(stack)]);
    const volumes = docker(["volume", "ls", "--format", "{{.Name}}"]).split("\n");
    expect(volumes).toEqual(expect.arrayContaining([`tfserving-${stack}-2-grafana-data`, names.volume[2]]));
    // What the new stack's docker.Volume does with the kept name: Docker returns the existing volume, no error.
    expect(docker(["volume", "create", keptVolume(stack)]).trim()).toBe(keptVolume(stack));
  }, 120_000);
});

describe("docker's listing", () => {
  it("reads docker's tab-separated listing, an unlabelled object with an empty label", () => {
    expect(parseListing("volume", "tfserving-dev-grafana-data\t\nother\tdev\n\n")).toEqual([
      { kind: "volume", name: "tfserving-dev-grafana-data", stackLabel: "" },
      { kind: "volume", name: "other", stackLabel: "dev" },
    ]);
  });
});
