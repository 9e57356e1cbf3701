import { STACK_LABEL } from "../../components/shared/dockerLabels";
import { BeforeUpEffects, beforeUp, parseStartFlags } from "../../scripts/automation/beforeUp";
import { StateResource, decideReplacements, refreshTargets, stateResources } from "../../scripts/automation/dockerState";
import { DockerObject, Leftovers, findLeftovers, leftoversLine } from "../../scripts/automation/leftovers";
import { StopLine } from "../../scripts/automation/preflight";

const urn = (type: string, name: string, parentType?: string) => `urn:pulumi:dev::tfserving-platform::${parentType ? `${parentType}$` : ""}${type}::${name}`;
const IMAGE_REF = "tfserving-platform/diabetes-prediction:0123456789ab";

/** The resources of `pulumi stack export` of a deployed dev stack (ids, inputs and most outputs left out), in the engine's order. */
function deployedDev(): StateResource[] {
  const docker = "urn:pulumi:dev::tfserving-platform::pulumi:providers:docker::default_5_2_0";
  return [
    { urn: urn("pulumi:pulumi:Stack", "tfserving-platform-dev"), type: "pulumi:pulumi:Stack", outputs: { imageRef: IMAGE_REF, servingUrl: "http://127.0.0.1:8501" } },
    { urn: urn("tfserving-platform:serving:TfServingImage", "tfserving"), type: "tfserving-platform:serving:TfServingImage", outputs: {} },
    { urn: docker, type: "pulumi:providers:docker", custom: true, outputs: {} },
    { urn: urn("docker:index/image:Image", "tfserving", "tfserving-platform:serving:TfServingImage"), type: "docker:index/image:Image", custom: true, outputs: { imageName: IMAGE_REF, repoDigest: "" } },
    { urn: urn("docker:index/network:Network", "stack-network"), type: "docker:index/network:Network", custom: true, outputs: { name: "tfserving-dev" } },
    { urn: urn("docker:index/container:Container", "serving", "tfserving-platform:serving:LocalServing"), type: "docker:index/container:Container", custom: true, outputs: { name: "tfserving-dev-serving" } },
    { urn: urn("command:local:Command", "serving-ready", "tfserving-platform:serving:LocalServing"), type: "command:local:Command", custom: true, outputs: {} },
    { urn: urn("docker:index/volume:Volume", "prometheus-data", "tfserving-platform:monitoring:Prometheus"), type: "docker:index/volume:Volume", custom: true, outputs: { name: "tfserving-dev-prometheus-data" } },
    { urn: urn("random:index/randomPassword:RandomPassword", "grafana-admin-password", "tfserving-platform:grafana:Grafana"), type: "random:index/randomPassword:RandomPassword", custom: true, outputs: {} },
    { urn: urn("docker:index/volume:Volume", "grafana-data", "tfserving-platform:grafana:Grafana"), type: "docker:index/volume:Volume", custom: true, outputs: { name: "tfserving-dev-grafana-data" } },
    { urn: urn("docker:index/container:Container", "grafana", "tfserving-platform:grafana:Grafana"), type: "docker:index/container:Container", custom: true, outputs: { name: "tfserving-dev-grafana" } },
    { urn: "urn:pulumi:dev::tfserving-platform::tfserving-platform:grafana:Grafana$pulumi:providers:grafana::grafana", type: "pulumi:providers:grafana", custom: true, outputs: {} },
    { urn: urn("grafana:oss/dataSource:DataSource", "grafana-prometheus", "tfserving-platform:grafana:Grafana"), type: "grafana:oss/dataSource:DataSource", custom: true, outputs: {} },
    { urn: urn("grafana:oss/dashboard:Dashboard", "grafana-dashboard", "tfserving-platform:grafana:Grafana"), type: "grafana:oss/dashboard:Dashboard", custom: true, outputs: {} },
  ];
}
const without = (resources: StateResource[], ...names: string[]) => resources.filter((resource) => !names.some((name) => resource.urn.endsWith(`::${name}`)));

/** Fakes with the engine's and Docker's behaviour: a refresh drops from the state what Docker no longer has. */
function effects(state: { before: StateResource[]; afterRefresh?: StateResource[]; images?: string[]; objects?: DockerObject[] }) {
  let current = state.before;
  const calls: string[] = [];
  const lines: string[] = [];
  const removed: Leftovers[] = [];
  const fake: BeforeUpEffects = {
    stateResources: async () => current,
    refresh: async (targets) => {
      calls.push(`refresh ${targets.length}`);
      current = state.afterRefresh ?? current;
    },
    imagePresent: async (ref) => (state.images ?? [IMAGE_REF]).includes(ref),
    listDockerObjects: async () => {
      calls.push("list");
      return state.objects ?? [];
    },
    removeLeftovers: async (leftovers) => {
      removed.push(leftovers);
    },
    log: (line) => lines.push(line),
  };
  return { fake, calls, lines, removed };
}

describe("before a later up: the Docker side of the state is refreshed, and what Docker lost is rebuilt", () => {
  it("refreshes every Docker, command and random resource, not the providers, components or Grafana's API resources", () => {
    const targets = refreshTargets(deployedDev());
    expect(targets).toHaveLength(8);
    expect(targets.some((target) => /grafana:oss|pulumi:providers|pulumi:pulumi:Stack|TfServingImage::tfserving$/.test(target))).toBe(false);
    expect(stateResources({ deployment: { resources: deployedDev() } })).toHaveLength(14);
    expect(stateResources({ deployment: {} })).toEqual([]);
  });

  it("changes nothing when the engine still has everything", async () => {
    const { fake, calls } = effects({ before: deployedDev() });
    await expect(beforeUp({ stackName: "dev", removeLeftovers: false }, fake)).resolves.toEqual([]);
    expect(calls).toEqual(["refresh 8"]);
  });

  it("lets the refresh drop vanished containers and networks (the up recreates them) without replacing anything else", async () => {
    const { fake } = effects({ before: deployedDev(), afterRefresh: without(deployedDev(), "serving", "grafana", "stack-network") });
    await expect(beforeUp({ stackName: "dev", removeLeftovers: false }, fake)).resolves.toEqual([]);
  });

  it("replaces (rebuilds) the image when imageRef is gone from the engine, never leaving it to a pull", async () => {
    const { fake, lines } = effects({ before: deployedDev(), images: [] });
    await expect(beforeUp({ stackName: "dev", removeLeftovers: false }, fake)).resolves.toEqual([urn("docker:index/image:Image", "tfserving", "tfserving-platform:serving:TfServingImage")]);
    expect(lines).toContain(`The image ${IMAGE_REF} is gone from the Docker engine: rebuilding it (never pulled).`);
  });

  it("replaces Grafana's data source and dashboard when its database volume vanished, not when only the container did", () => {
    const before = deployedDev();
    const lostVolume = decideReplacements({ before, afterRefresh: without(before, "grafana", "grafana-data"), missingImages: [] });
    expect(lostVolume.replace).toEqual([urn("grafana:oss/dataSource:DataSource", "grafana-prometheus", "tfserving-platform:grafana:Grafana"), urn("grafana:oss/dashboard:Dashboard", "grafana-dashboard", "tfserving-platform:grafana:Grafana")]);
    expect(lostVolume.notes).toEqual([expect.stringContaining("tfserving-dev-grafana-data is gone")]);
    expect(decideReplacements({ before, afterRefresh: without(before, "grafana"), missingImages: [] }).replace).toEqual([]);
  });
});

describe("before a first up: what an earlier stack of the same name left on the Docker host", () => {
  const leftBehind: DockerObject[] = [
    { kind: "container", name: "tfserving-dev-serving", stackLabel: "" },
    { kind: "container", name: "tfserving-dev-grafana", stackLabel: "dev" },
    { kind: "container", name: "my-own-postgres", stackLabel: "" },
    { kind: "container", name: "tfserving-live-1a2b-serving", stackLabel: "live-1a2b" },
    { kind: "network", name: "tfserving-dev", stackLabel: "" },
    { kind: "network", name: "bridge", stackLabel: "" },
    { kind: "volume", name: "tfserving-dev-prometheus-data", stackLabel: "" },
    { kind: "volume", name: "tfserving-dev-grafana-data", stackLabel: "" },
    // A stack named dev-2: its names start with tfserving-dev- too.
    { kind: "volume", name: "tfserving-dev-2-grafana-data", stackLabel: "" },
    // The user's own volume that happens to carry one of our names but another stack's label.
    { kind: "volume", name: "tfserving-dev-alertmanager-data", stackLabel: "prod" },
  ];

  it("finds labelled objects and the exact fixed names, keeps the Prometheus history, and leaves everything else alone", () => {
    const found = findLeftovers(leftBehind, "dev");
    expect(found.inTheWay.map((object) => `${object.kind} ${object.name}`)).toEqual([
      "container tfserving-dev-grafana",
      "container tfserving-dev-serving",
      "network tfserving-dev",
      "volume tfserving-dev-grafana-data",
    ]);
    expect(found.kept.map((object) => object.name)).toEqual(["tfserving-dev-prometheus-data"]);
    expect(STACK_LABEL).toBe("tfserving-platform.stack");
  });

  it("stops with one line naming them and the one command that removes them", async () => {
    const { fake, calls } = effects({ before: [], objects: leftBehind });
    const error = await beforeUp({ stackName: "dev", removeLeftovers: false }, fake).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StopLine);
    const line = (error as Error).message;
    expect(line).toBe(leftoversLine(findLeftovers(leftBehind, "dev"), "dev"));
    expect(line).not.toMatch(/\n/);
    expect(line).toContain("containers tfserving-dev-grafana, tfserving-dev-serving; network tfserving-dev; volume tfserving-dev-grafana-data");
    expect(line).toContain("`npm start -- --remove-leftovers`");
    expect(line).toContain("tfserving-dev-prometheus-data is kept");
    expect(calls).toEqual(["list"]);
  });

  it("with --remove-leftovers removes them and takes the Prometheus volume over; with nothing left it just deploys", async () => {
    const { fake, removed, lines } = effects({ before: [], objects: leftBehind });
    await expect(beforeUp({ stackName: "dev", removeLeftovers: true }, fake)).resolves.toEqual([]);
    expect(removed).toEqual([findLeftovers(leftBehind, "dev")]);
    expect(lines[lines.length - 1]).toMatch(/Taking over the volume tfserving-dev-prometheus-data/);
    const clean = effects({ before: [], objects: [{ kind: "network", name: "bridge", stackLabel: "" }] });
    await expect(beforeUp({ stackName: "dev", removeLeftovers: false }, clean.fake)).resolves.toEqual([]);
    expect(clean.calls).toEqual(["list"]);
  });

  it("npm start takes --remove-leftovers and nothing else", () => {
    expect(parseStartFlags([])).toEqual({ removeLeftovers: false });
    expect(parseStartFlags(["--remove-leftovers"])).toEqual({ removeLeftovers: true });
    expect(() => parseStartFlags(["--yes"])).toThrow("npm start takes no arguments but --remove-leftovers (got --yes)");
  });
});
