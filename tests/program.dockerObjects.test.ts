import { adminResetEntrypoint } from "../components/grafana/adminReset";
import { STACK_LABEL } from "../components/shared/dockerLabels";
import { makeModelDir, removeDir } from "./support/modelFixture";
import { ProgramRun, runProgram } from "./support/program";

/**
 * Container settings that kreuzwerker's provider 4.5 accepts as an in-place update but never applies to the
 * running container: neither ForceNew in resource_docker_container.go nor among the attributes
 * resourceDockerContainerUpdate sends to Docker (restart, memory, cpu_shares, ...). `wait`, `wait_timeout`,
 * `must_run`, `start` and the like only steer the provider, not the container, so they are not listed.
 */
const ACCEPTED_BUT_NOT_APPLIED = ["healthcheck", "tmpfs", "init", "cpuPeriod", "cpuQuota"];

const CONTAINER = "docker:index/container:Container";
const DOCKER_OBJECTS = [CONTAINER, "docker:index/volume:Volume", "docker:index/network:Network"];

describe("the Docker objects of a dev stack with every part (Alertmanager too)", () => {
  let modelDir: string;
  let run: ProgramRun;
  beforeAll(async () => {
    modelDir = makeModelDir();
    run = await runProgram({
      stack: "dev",
      config: { modelDir, deployTarget: "local", alertmanagerWebhookUrl: "https://hooks.example.invalid/alerts" },
      secretKeys: ["alertmanagerWebhookUrl"],
    });
  });
  afterAll(() => removeDir(modelDir));

  it("all carry the stack's label, so the objects an earlier stack left can be told from a user's", () => {
    const objects = run.resources.filter((resource) => DOCKER_OBJECTS.includes(resource.type));
    expect(objects.map((object) => `${object.type}/${object.name}`).sort()).toEqual([
      `${CONTAINER}/alertmanager`,
      `${CONTAINER}/grafana`,
      `${CONTAINER}/prometheus`,
      `${CONTAINER}/serving`,
      "docker:index/network:Network/stack-network",
      "docker:index/volume:Volume/alertmanager-data",
      "docker:index/volume:Volume/grafana-data",
      "docker:index/volume:Volume/prometheus-data",
    ]);
    for (const object of objects) expect([object.name, object.inputs.labels]).toEqual([object.name, [{ label: STACK_LABEL, value: "dev" }]]);
    // The image: a build argument its Dockerfile turns into the same label.
    expect((run.one("docker:index/image:Image").inputs.build as { args: Record<string, string> }).args).toEqual({ TFSERVING_PLATFORM_STACK: "dev" });
  });

  it("replace a container when a setting changes that Docker would not apply to the running one", () => {
    const containers = run.byType(CONTAINER);
    expect(containers).toHaveLength(4);
    for (const container of containers) {
      const unapplied = ACCEPTED_BUT_NOT_APPLIED.filter((setting) => container.inputs[setting] !== undefined);
      expect([container.name, container.options.replaceOnChanges]).toEqual([container.name, expect.arrayContaining(unapplied)]);
      // Fixed names and host ports: the old container must go before the new one starts.
      expect([container.name, container.options.deleteBeforeReplace]).toEqual([container.name, true]);
    }
    // The three with a healthcheck are the ones `wait` holds for.
    expect(containers.filter((container) => container.inputs.healthcheck !== undefined).map((container) => container.name).sort()).toEqual([
      "alertmanager",
      "grafana",
      "prometheus",
    ]);
  });

  it("keep volumes (and the data in them) when only their labels would change; the network deletes before it replaces", () => {
    for (const volume of run.byType("docker:index/volume:Volume")) expect([volume.name, volume.options.ignoreChanges]).toEqual([volume.name, ["labels"]]);
    expect(run.one("docker:index/network:Network").options.deleteBeforeReplace).toBe(true);
  });

  it("start Grafana through the admin-password reset, with the password only in its secret environment", () => {
    const grafana = run.one(CONTAINER, "grafana");
    expect(grafana.inputs.entrypoints).toEqual(adminResetEntrypoint());
    expect(JSON.stringify(grafana.inputs.entrypoints)).not.toContain("mock-password");
    expect(JSON.stringify(grafana.inputs.envs)).toContain("GF_SECURITY_ADMIN_PASSWORD=mock-password-grafana-admin-password");
  });
});
