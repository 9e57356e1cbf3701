import { MOCK_API_KEYS } from "../support/mockProgram";
import { makeModelDir, removeDir } from "../support/modelFixture";
import { ProgramRun, runProgram, stackRunOptions } from "../support/program";
import { isSecret, revealed } from "../support/secrets";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";
const ROTATED = "teamA-rotated-9d8c7b6a5f4e3d2c1b0a9f8e7d6c";

describe("the front door in the program, under mocks", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  const prod = (apiKeys: Record<string, string> | undefined, extraConfig: Record<string, string> = {}, preview = false) => {
    const options = stackRunOptions("prod", modelDir, { extraConfig });
    if (apiKeys === undefined) delete options.config.apiKeys;
    else options.config.apiKeys = JSON.stringify(apiKeys);
    return runProgram({ ...options, preview });
  };
  const deployEnvironment = (run: ProgramRun) => revealed<Record<string, string>>(run.one(COMMAND, "serving-deploy").inputs.environment);
  const triggers = (run: ProgramRun) => revealed<string[]>(run.one(COMMAND, "serving-deploy").inputs.triggers);

  it("prod without keys and without publicEndpoint fails at preview, naming the key and the opt-out", async () => {
    await expect(prod(undefined, {}, true)).rejects.toThrow(/tfserving-platform:apiKeys: is required when deployTarget is railway[\s\S]*publicEndpoint true/);
    const run = await prod(undefined, { publicEndpoint: "true" }, true);
    expect(run.outputs.apiKeyHeader).toBe("");
  });

  it("prod sets each consumer's key and the scrape credential as Railway variables, sends one key in the rollout check, and exports them only as a secret", async () => {
    const run = await prod(MOCK_API_KEYS);
    const environment = deployEnvironment(run);
    expect(JSON.parse(environment.DEPLOY_FRONT_DOOR_VARIABLES)).toEqual({
      FRONT_DOOR_KEY_TEAM_A: MOCK_API_KEYS["team-a"],
      FRONT_DOOR_KEY_TEAM_B: MOCK_API_KEYS["team-b"],
      FRONT_DOOR_SCRAPE_KEY: "mock-password-front-door-scrape",
    });
    expect(environment.TFSERVING_API_KEY).toBe(MOCK_API_KEYS["team-a"]);
    expect(run.outputs.apiKeyHeader).toBe("Authorization: Bearer <key>");
    expect(run.secretOutputs.has("apiKeys")).toBe(true);
    expect(JSON.parse(run.outputs.apiKeys as string)).toEqual(MOCK_API_KEYS);
    // The keys are in no plain input of any resource.
    for (const resource of run.resources) {
      const plain = JSON.stringify(resource.inputs, (_key, value) => (isSecret(value) ? "<secret>" : value));
      for (const key of Object.values(MOCK_API_KEYS)) expect({ resource: resource.name, leaks: plain.includes(key) }).toEqual({ resource: resource.name, leaks: false });
    }
  });

  it("rotating one key redeploys with the new variable but keeps the image; revoking a consumer changes the image's config", async () => {
    const before = await prod(MOCK_API_KEYS);
    const rotated = await prod({ ...MOCK_API_KEYS, "team-a": ROTATED });
    expect(rotated.outputs.contextHash).toBe(before.outputs.contextHash);
    expect(triggers(rotated).slice(0, 3)).toEqual(triggers(before).slice(0, 3));
    expect(triggers(rotated)[3]).not.toBe(triggers(before)[3]);
    const variables = JSON.parse(deployEnvironment(rotated).DEPLOY_FRONT_DOOR_VARIABLES);
    expect(variables).toMatchObject({ FRONT_DOOR_KEY_TEAM_A: ROTATED, FRONT_DOOR_KEY_TEAM_B: MOCK_API_KEYS["team-b"] });
    // The generated scrape credential is the same resource, untouched by a consumer's rotation.
    expect(rotated.one("random:index/randomPassword:RandomPassword", "front-door-scrape").inputs).toEqual(before.one("random:index/randomPassword:RandomPassword", "front-door-scrape").inputs);

    const revoked = await prod({ "team-b": MOCK_API_KEYS["team-b"] });
    expect(revoked.outputs.contextHash).not.toBe(before.outputs.contextHash);
    expect(JSON.parse(deployEnvironment(revoked).DEPLOY_FRONT_DOOR_VARIABLES)).not.toHaveProperty("FRONT_DOOR_KEY_TEAM_A");
  });

  it("dev generates a key, gives it to the serving container and the readiness gate, and rotating it (apiKeys) replaces the container, not the image", async () => {
    const dev = await runProgram(stackRunOptions("dev", modelDir));
    const envs = revealed<string[]>(dev.one(CONTAINER, "serving").inputs.envs);
    expect(envs).toEqual(["FRONT_DOOR_KEY_DEV=mock-password-front-door-dev", "FRONT_DOOR_SCRAPE_KEY=mock-password-front-door-scrape"]);
    expect(JSON.parse(dev.outputs.apiKeys as string)).toEqual({ dev: "mock-password-front-door-dev" });

    const withKey = (key: string) => runProgram({ ...stackRunOptions("dev", modelDir, { extraConfig: { apiKeys: JSON.stringify({ dev: key }) } }), secretKeys: ["apiKeys"] });
    const [first, second] = [await withKey(MOCK_API_KEYS["team-a"]), await withKey(ROTATED)];
    expect(second.one("docker:index/image:Image").inputs).toEqual(first.one("docker:index/image:Image").inputs);
    expect(revealed<string[]>(second.one(CONTAINER, "serving").inputs.envs)).toContain(`FRONT_DOOR_KEY_DEV=${ROTATED}`);
    expect(second.byType("random:index/randomPassword:RandomPassword").map((resource) => resource.name)).not.toContain("front-door-dev");
  });
});
