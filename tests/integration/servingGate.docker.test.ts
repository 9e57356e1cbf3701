import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/freePort";
import { buildBusyboxImage, docker, requireDocker, uniqueSuffix } from "../support/docker";
import { removeDir } from "../support/modelFixture";
import { PROJECT_DIR } from "../support/program";

/**
 * The readiness gate (scripts/verify-rollout.ts, as LocalServing's command runs it) against a real
 * container on the local engine that dies at start the way TF Serving does without AVX: the gate must
 * fail quoting the container's log, not wait out TIMEOUT_SECONDS (600 here).
 */
const suffix = uniqueSuffix();
const IMAGE = `tfserving-platform-test/dies-at-start:${suffix}`;
const AVX_LINE = "The TensorFlow library was compiled to use AVX instructions, but these aren't available on your machine.";

function runGate(containerName: string, servingPort: number) {
  return spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/verify-rollout.ts", "run"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    env: { ...process.env, SERVING_URL: `http://127.0.0.1:${servingPort}`, MODEL_NAME: "diabetes-prediction", TIMEOUT_SECONDS: "600", CONTAINER_NAME: containerName },
    // Far below TIMEOUT_SECONDS: a gate that waits for the timeout is stopped here and fails the test.
    timeout: 90_000,
  });
}

describe("readiness gate on a real Docker engine", () => {
  let workDir: string;
  const containers: string[] = [];

  beforeAll(() => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-gate-"));
    // The pause orders the two lines: stdout and stderr are separate pipes, so lines written together may swap in docker logs.
    buildBusyboxImage(workDir, IMAGE, {
      lines: [`ENTRYPOINT ["/bin/sh", "-c", "echo 'starting tensorflow_model_server'; sleep 1; echo \\"${AVX_LINE}\\" >&2; exit 134"]`],
    });
  }, 120_000);

  afterAll(() => {
    for (const container of containers) spawnSync("docker", ["rm", "-f", container]);
    spawnSync("docker", ["rmi", "-f", IMAGE]);
    if (workDir) removeDir(workDir);
  });

  it.each([
    ["crash-looping under restart unless-stopped, as LocalServing runs it", ["--restart", "unless-stopped"], /is crash-looping \(restarted \d+ times?(, last exit code 134)?\)|has exited \(exit code 134\)/],
    ["exited without a restart policy", [], /has exited \(exit code 134\)/],
  ])("fails at once when the container is %s, quoting its last log lines", async (_case, runFlags, state) => {
    const container = `tfserving-platform-test-gate-${suffix}-${containers.length}`;
    containers.push(container);
    docker(["run", "-d", "--name", container, ...runFlags, IMAGE]);
    const gate = runGate(container, await freePort());
    expect(gate.error).toBeUndefined();
    expect(gate.status).toBe(1);
    expect(gate.stderr).toMatch(state);
    // Both streams, in the order the container wrote them.
    expect(gate.stderr).toContain(`  | starting tensorflow_model_server\n  | ${AVX_LINE}`);
    expect(gate.stderr).toMatch(/needs AVX instructions/);
    expect(gate.stdout).toBe("");
  }, 120_000);
});
