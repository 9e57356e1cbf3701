import { makeModelDir, removeDir } from "./support/modelFixture";
import { runProgram } from "./support/program";
import { isSecret, revealed } from "./support/secrets";

describe("dev stack under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it("registers the image build, the network and a serving container bound to loopback", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local" } });
    const image = run.one("docker:index/image:Image");
    expect(image.inputs.imageName).toMatch(/^tfserving-platform\/diabetes-prediction:[0-9a-f]{12}$/);
    expect(image.inputs.skipPush).toBe(true);
    expect((image.inputs.build as { context: string }).context).toBe(".build/dev/tfserving");
    // Not path.join: the same input on Windows and Linux, so a run from either machine sees no diff.
    expect((image.inputs.build as { dockerfile: string }).dockerfile).toBe(".build/dev/tfserving/Dockerfile");

    const network = run.one("docker:index/network:Network");
    expect(network.inputs.name).toBe("tfserving-dev");

    const container = run.one("docker:index/container:Container", "serving");
    expect(container.inputs.image).toBe(image.inputs.imageName);
    expect(container.inputs.ports).toEqual([expect.objectContaining({ internal: 8501, external: 8501, ip: "127.0.0.1" })]);
    expect(container.inputs.networksAdvanced).toEqual([expect.objectContaining({ name: "tfserving-dev" })]);
    expect(container.inputs.restart).toBe("unless-stopped");

    const gate = run.one("command:local:Command", "serving-ready");
    // Secret: the gate sends dev's generated key through the front door.
    expect(isSecret(gate.inputs.environment)).toBe(true);
    expect(revealed(gate.inputs.environment)).toMatchObject({ SERVING_URL: "http://127.0.0.1:8501", MODEL_NAME: "diabetes-prediction", TFSERVING_API_KEY: "mock-password-front-door-dev" });
    expect(gate.inputs.interpreter).toEqual(["node", "--require", "ts-node/register/transpile-only", "scripts/verify-rollout.ts"]);

    expect(run.outputs).toMatchObject({
      deployTarget: "local",
      servingUrl: "http://127.0.0.1:8501",
      modelStatusUrl: "http://127.0.0.1:8501/v1/models/diabetes-prediction",
      predictUrl: "http://127.0.0.1:8501/v1/models/diabetes-prediction:predict",
      metricsUrl: "http://127.0.0.1:8501/monitoring/prometheus/metrics",
      imageRef: image.inputs.imageName,
    });
    expect(run.outputs.contextHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("builds for imagePlatform (linux/amd64 unless set) and gives the gate the container to watch", async () => {
    const amd64 = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local" } });
    const build = amd64.one("docker:index/image:Image").inputs.build as { platform: string; args: Record<string, string> };
    expect(build.platform).toBe("linux/amd64");
    expect(build.args).toEqual({ TFSERVING_PLATFORM_STACK: "dev" });
    // Secret as a whole: it holds the front door's key the gate sends.
    const gateEnvironment = revealed(amd64.one("command:local:Command", "serving-ready").inputs.environment);
    expect(gateEnvironment).toMatchObject({ CONTAINER_NAME: "tfserving-dev-serving" });
    expect(gateEnvironment).not.toHaveProperty("DOCKER_HOST");
    // The provider reads a container's platform back as "linux" alone: setting it would replace the container on every run.
    expect(amd64.one("docker:index/container:Container", "serving").inputs.platform).toBeUndefined();

    const arm64 = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local", imagePlatform: "linux/arm64" } });
    expect((arm64.one("docker:index/image:Image").inputs.build as { platform: string }).platform).toBe("linux/arm64");
    // A new platform is a new context digest, so a new tag, so a new container.
    expect(arm64.outputs.imageRef).not.toBe(amd64.outputs.imageRef);
  });

  it("hands a docker:host the stack sets to the gate, whose Docker CLI then asks the same engine", async () => {
    const run = await runProgram({ stack: "dev", config: { modelDir, deployTarget: "local", "docker:host": "ssh://builder@10.0.0.5" } });
    expect(revealed(run.one("command:local:Command", "serving-ready").inputs.environment)).toMatchObject({ DOCKER_HOST: "ssh://builder@10.0.0.5" });
  });

  it("fails before registering anything when the config is bad", async () => {
    await expect(runProgram({ stack: "dev", config: { modelDir, restPort: "http" } })).rejects.toThrow(/tfserving-platform:restPort/);
  });
});
