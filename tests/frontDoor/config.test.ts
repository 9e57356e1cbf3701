import { parseApiKeys } from "../../components/frontDoor/config";
import { parse, problemsOf } from "../support/configParse";

const KEY_A = "kA7f3c9d1e5b2a8f4c6d0e9b7a1c3f5d2e8b";
const KEY_B = "kB0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a";
const railway = { modelDir: "m", deployTarget: "railway", railwayService: "svc", railwayToken: "railway-token-3f9c1a" };

describe("front door config", () => {
  it("prod without apiKeys and without publicEndpoint fails, naming both keys and how to set them", () => {
    const message = problemsOf(railway);
    expect(message).toMatch(/tfserving-platform:apiKeys: is required when deployTarget is railway/);
    expect(message).toMatch(/pulumi config set --secret --path 'tfserving-platform:apiKeys\.<consumer>'/);
    expect(message).toMatch(/pulumi config set tfserving-platform:publicEndpoint true/);
  });

  it("prod with keys, or with the explicit opt-out, passes; the consumers are the map's names", () => {
    expect(parse({ ...railway, apiKeys: JSON.stringify({ "team-b": KEY_B, "team-a": KEY_A }) }, "prod").apiKeyConsumers).toEqual(["team-a", "team-b"]);
    expect(parse({ ...railway, publicEndpoint: "true" }, "prod").apiKeyConsumers).toEqual([]);
  });

  it("dev without keys gets one generated consumer; dev with publicEndpoint none", () => {
    expect(parse({}).apiKeyConsumers).toEqual(["dev"]);
    expect(parse({ publicEndpoint: "true" }).apiKeyConsumers).toEqual([]);
  });

  it("applies the limits' defaults: 1 MiB bodies, the status route open, the pinned caddy image", () => {
    expect(parse({})).toMatchObject({ maxRequestBodyBytes: 1048576, modelStatusOpen: true, frontDoorImage: "caddy:2.11.9", publicEndpoint: false });
  });

  it.each([
    ["not JSON", "team-a=abc", /must be a map of consumer name to key/],
    ["an empty map", "{}", /names no consumer/],
    ["a bad consumer name", JSON.stringify({ Team_A: KEY_A }), /consumer name "Team_A" must be lowercase/],
    ["a short key", JSON.stringify({ "team-a": "short-key" }), /apiKeys\.team-a: the key must be 32 to 512 characters/],
    ["a wildcard key", JSON.stringify({ "team-a": `*${KEY_A}` }), /apiKeys\.team-a: the key must be/],
    ["a placeholder key", JSON.stringify({ "team-a": `{env.HOME}${KEY_A}` }), /apiKeys\.team-a: the key must be/],
  ])("rejects %s without echoing the secret", (_name, value, expected) => {
    const message = problemsOf({ apiKeys: value });
    expect(message).toMatch(expected);
    if (value.length > 2) expect(message).not.toContain(value);
    expect(message).not.toContain(KEY_A);
  });

  it("refuses apiKeys together with publicEndpoint, and the door's internal ports as restPort or grpcPort", () => {
    expect(problemsOf({ apiKeys: JSON.stringify({ a: KEY_A }), publicEndpoint: "true" })).toMatch(/tfserving-platform:publicEndpoint: is true but tfserving-platform:apiKeys is set/);
    expect(problemsOf({ restPort: "18501" })).toMatch(/tfserving-platform:restPort: 18501 is TF Serving's REST port behind the front door/);
    expect(problemsOf({ grpcPort: "9096" })).toMatch(/tfserving-platform:grpcPort: 9096 is the front door's loopback metrics port/);
  });

  it("parses the map Pulumi passes for `--path` secrets", () => {
    expect(parseApiKeys(JSON.stringify({ "team-a": KEY_A }))).toEqual({ keys: { "team-a": KEY_A } });
  });
});
