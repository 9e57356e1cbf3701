import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { frontDoorImageSpec } from "../../components/frontDoor/image";
import { ENTRYPOINT_ASSET, STACK_BUILD_ARG, renderContextFiles, writeBuildContext } from "../../components/serving/buildContext";
import { stackLabelFilter } from "../../components/shared/dockerLabels";
import { scanModelDir } from "../../components/serving/modelDir";
import { parse } from "../support/configParse";
import { buildStandinCaddy, buildStandinServingBase, requireDocker } from "../support/docker";
import { makeModelDir, removeDir } from "../support/modelFixture";

/**
 * Builds the rendered TF Serving context with a real Docker engine, FROM a stand-in base image made
 * of busybox and a fake tensorflow_model_server (and the front door from a stand-in caddy image), and
 * checks what the entrypoint starts.
 */
const BASE_IMAGE = "tfserving-platform-test/standin-serving:1";
const CADDY_IMAGE = "tfserving-platform-test/standin-caddy:1";
const IMAGE = "tfserving-platform-test/serving:1";
const CONTAINER = `tfserving-platform-test-${process.pid}`;
/** The local stand-in base exists for this machine's platform only: FROM --platform must find it without a registry. */
const HOST_PLATFORM = `linux/${{ x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch}`;

function docker(args: string[], timeoutMs = 120_000): string {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: timeoutMs });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${result.error?.message ?? ""}${result.stderr}`);
  return result.stdout;
}

/** Container logs once the stand-in says it is ready (bounded). */
function logsWhenReady(): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const logs = spawnSync("docker", ["logs", CONTAINER], { encoding: "utf8" }).stdout;
    if (logs.includes("ready")) return logs;
    spawnSync("sleep", ["0.2"]);
  }
  throw new Error(`the container did not start: ${spawnSync("docker", ["logs", CONTAINER], { encoding: "utf8" }).stderr}`);
}

describe("TF Serving image on a real Docker engine", () => {
  let workDir: string;
  let modelDir: string;
  let logs: string;

  beforeAll(() => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-docker-"));
    buildStandinServingBase(workDir, BASE_IMAGE);
    buildStandinCaddy(workDir, CADDY_IMAGE);

    modelDir = makeModelDir(["7", "12"], (root) => fs.mkdirSync(path.join(root, "not-a-version")));
    const contextDir = path.join(workDir, "context");
    const files = renderContextFiles(
      {
        baseImage: BASE_IMAGE,
        modelName: "diabetes-prediction",
        restPort: 8501,
        grpcPort: 8500,
        metricsPath: "/metrics/tf",
        restApiNumThreads: 3,
        platform: HOST_PLATFORM,
        frontDoor: { ...frontDoorImageSpec(parse({ publicEndpoint: "true" })), image: CADDY_IMAGE },
      },
      fs.readFileSync(ENTRYPOINT_ASSET, "utf8"),
    );
    writeBuildContext(contextDir, files, scanModelDir(modelDir).versions);
    docker(["build", "-q", "-t", IMAGE, "--build-arg", `${STACK_BUILD_ARG}=dev`, contextDir]);
    docker(["run", "-d", "--name", CONTAINER, "-e", "PORT=9100", "-e", "FRONT_DOOR_SCRAPE_KEY=scrape-key-for-the-image-test-0123456789", IMAGE, "--rest_api_num_threads=5"]);
    logs = logsWhenReady();
  }, 300_000);

  afterAll(() => {
    spawnSync("docker", ["rm", "-f", CONTAINER]);
    spawnSync("docker", ["rmi", "-f", IMAGE, BASE_IMAGE, CADDY_IMAGE]);
    if (workDir) removeDir(workDir);
    if (modelDir) removeDir(modelDir);
  });

  const args = () => logs.split("\n").filter((line) => line.startsWith("arg=")).map((line) => line.slice(4));

  it("supervises the server (the entrypoint is PID 1), so SIGTERM reaches it and the container stops cleanly", () => {
    expect(logs).not.toContain("pid=1\n");
    docker(["stop", "-t", "10", CONTAINER]);
    expect(spawnSync("docker", ["logs", CONTAINER], { encoding: "utf8" }).stdout).toContain("got SIGTERM");
    expect(docker(["inspect", CONTAINER, "--format", "{{.State.ExitCode}}"]).trim()).toBe("0");
  });

  it("passes the ports, model and monitoring flags; REST on the internal port behind the front door (which takes PORT)", () => {
    expect(args().slice(0, 5)).toEqual([
      "--port=8500",
      "--rest_api_port=18501",
      "--model_name=diabetes-prediction",
      "--model_base_path=/models/diabetes-prediction",
      "--monitoring_config_file=/etc/tfserving/monitoring.config",
    ]);
  });

  it("carries the tuning flags as CMD, which arguments given to `docker run` replace", () => {
    expect(JSON.parse(docker(["image", "inspect", IMAGE, "--format", "{{json .Config.Cmd}}"]))).toEqual(["--rest_api_num_threads=3"]);
    expect(args().slice(5)).toEqual(["--rest_api_num_threads=5"]);
  });

  it("carries the stack's label, so `docker image ls --filter` finds what a stack built", () => {
    expect(docker(["image", "ls", "-q", "--filter", stackLabelFilter("dev"), IMAGE]).trim()).not.toBe("");
    expect(docker(["image", "ls", "-q", "--filter", stackLabelFilter("prod"), IMAGE]).trim()).toBe("");
  });

  it("ships the monitoring config and only the numeric model versions", () => {
    expect(logs).toContain('monitoring_config<<\nprometheus_config {\n  enable: true\n  path: "/metrics/tf"\n}\n>>');
    const modelFiles = logs.split("\n").filter((line) => line.startsWith("model_file=")).map((line) => line.slice(11));
    expect(modelFiles).toEqual([
      "/models/diabetes-prediction/12/saved_model.pb",
      "/models/diabetes-prediction/12/variables/variables.data-00000-of-00001",
      "/models/diabetes-prediction/12/variables/variables.index",
      "/models/diabetes-prediction/7/saved_model.pb",
      "/models/diabetes-prediction/7/variables/variables.data-00000-of-00001",
      "/models/diabetes-prediction/7/variables/variables.index",
    ]);
  });
});
