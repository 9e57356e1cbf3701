import { ContainerSnapshot, DockerCli, containerCheck, containerFailure, mergeTimestampedLogs, parseInspect } from "../../components/serving/containerState";
import { RolloutError, waitForModelAvailable } from "../../components/serving/rollout";
import { FakeTfServing, startFakeTfServing } from "../support/fakeTfServing";

const NAME = "tfserving-dev-serving";
const AVX_LINE = "The TensorFlow library was compiled to use AVX instructions, but these aren't available on your machine.";
const snapshot = (overrides: Partial<ContainerSnapshot>): ContainerSnapshot => ({
  status: "running",
  exitCode: 0,
  restartCount: 0,
  oomKilled: false,
  error: "",
  ...overrides,
});

describe("the serving container's state, as the readiness gate judges it", () => {
  it("reads the fields it decides on from `docker container inspect`", () => {
    const json = JSON.stringify({
      Id: "abc",
      RestartCount: 4,
      State: { Status: "restarting", Running: true, Restarting: true, OOMKilled: false, ExitCode: 134, Error: "" },
    });
    expect(parseInspect(json)).toEqual({ status: "restarting", exitCode: 134, restartCount: 4, oomKilled: false, error: "" });
  });

  it.each(["created", "running", "paused"])("lets the gate keep polling while the container is %s and has not restarted", (status) => {
    expect(containerFailure(NAME, snapshot({ status }), "loading the model")).toBeUndefined();
  });

  it("fails an exited container, quoting its last log lines", () => {
    const message = containerFailure(NAME, snapshot({ status: "exited", exitCode: 1 }), "line one\nNot found: /models/diabetes-prediction\n");
    expect(message).toBe(
      `The serving container ${NAME} has exited (exit code 1), so the model will not become AVAILABLE. Its last log lines:\n` +
        "  | line one\n  | Not found: /models/diabetes-prediction",
    );
  });

  it("fails a crash-looping container, whether caught restarting or running again between restarts", () => {
    expect(containerFailure(NAME, snapshot({ status: "restarting", exitCode: 134, restartCount: 1 }), "x")).toMatch(
      /is crash-looping \(restarted 1 time, last exit code 134\)/,
    );
    // Running again between restarts, Docker reports exit code 0: not quoted as the last one.
    expect(containerFailure(NAME, snapshot({ status: "running", exitCode: 0, restartCount: 3 }), "x")).toMatch(/is crash-looping \(restarted 3 times\), so/);
  });

  it("says what an AVX abort means and where to read on", () => {
    const message = containerFailure(NAME, snapshot({ status: "exited", exitCode: 134 }), `${AVX_LINE}\n`)!;
    expect(message).toContain(`  | ${AVX_LINE}`);
    expect(message).toMatch(/needs AVX instructions.*"Apple Silicon".*tfserving-platform:tfServingImage/s);
    expect(containerFailure(NAME, snapshot({ status: "exited", exitCode: 1 }), "bad model path")).not.toMatch(/AVX/);
  });

  it("names an out-of-memory kill, Docker's own error, and a container that logged nothing", () => {
    const message = containerFailure(NAME, snapshot({ status: "exited", exitCode: 137, oomKilled: true, error: "exec format error" }), "");
    expect(message).toMatch(/exit code 137, killed for lack of memory\).*Docker says: exec format error\. It logged nothing\./);
  });
});

describe("log lines of both streams", () => {
  it("come back in the order written, without docker's timestamps", () => {
    const stdout = "2026-12-07T11:00:00.1Z first\n2026-12-07T11:00:00.9Z fourth\n";
    const stderr = "2026-12-07T11:00:00.35Z second\n2026-12-07T11:00:00.5Z third\n";
    expect(mergeTimestampedLogs(stdout, stderr)).toBe("first\nsecond\nthird\nfourth\n");
  });
});

describe("containerCheck over the Docker CLI", () => {
  /** A fake CLI answering inspect with the given state and logs with two streams. */
  function fakeCli(state: ContainerSnapshot | Error): { cli: DockerCli; calls: string[][] } {
    const calls: string[][] = [];
    const cli: DockerCli = async (args) => {
      calls.push(args);
      if (args[0] === "container") {
        if (state instanceof Error) throw state;
        return {
          stdout: JSON.stringify({ RestartCount: state.restartCount, State: { Status: state.status, ExitCode: state.exitCode, OOMKilled: state.oomKilled, Error: state.error } }),
          stderr: "",
        };
      }
      return { stdout: "2026-12-07T11:00:00.5Z entrypoint: starting\n", stderr: `2026-12-07T11:00:00.25Z ${AVX_LINE}\n` };
    };
    return { cli, calls };
  }

  it("asks for the last 20 log lines of a failed container only", async () => {
    const failed = fakeCli(snapshot({ status: "exited", exitCode: 134 }));
    const message = await containerCheck(NAME, failed.cli)();
    expect(failed.calls).toEqual([
      ["container", "inspect", "--format", "{{json .}}", NAME],
      ["logs", "--tail", "20", "--timestamps", NAME],
    ]);
    // Merged in the order written: the stderr line came first.
    expect(message).toContain(`  | ${AVX_LINE}\n  | entrypoint: starting`);

    const running = fakeCli(snapshot({ status: "running" }));
    expect(await containerCheck(NAME, running.cli)()).toBeUndefined();
    expect(running.calls).toHaveLength(1);
  });

  it("gives no verdict when the CLI cannot answer, so the gate goes on polling", async () => {
    expect(await containerCheck(NAME, fakeCli(new Error("docker: not found")).cli)()).toBeUndefined();
  });
});

describe("waitForModelAvailable with a server-failure check", () => {
  let server: FakeTfServing | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("fails at the first poll that finds the server gone, long before the timeout", async () => {
    server = await startFakeTfServing({ states: ["LOADING"] });
    const error = await waitForModelAvailable({
      servingUrl: server.url,
      modelName: "diabetes-prediction",
      timeoutMs: 600_000,
      initialIntervalMs: 10,
      serverFailure: async () => "The serving container x has exited (exit code 1)",
    }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(RolloutError);
    expect((error as Error).message).toBe("The serving container x has exited (exit code 1)");
    expect(server.statusPolls()).toBe(1);
  });

  it("is not asked once the model is AVAILABLE", async () => {
    server = await startFakeTfServing({ states: ["LOADING", "AVAILABLE"] });
    let asked = 0;
    const version = await waitForModelAvailable({
      servingUrl: server.url,
      modelName: "diabetes-prediction",
      timeoutMs: 10_000,
      initialIntervalMs: 10,
      serverFailure: async () => {
        asked += 1;
        return undefined;
      },
    });
    expect(version).toBe("1763528202");
    expect(asked).toBe(1);
  });
});
