import * as fs from "node:fs";
import * as path from "node:path";
import { ModelDirError, scanModelDir } from "../../components/serving/modelDir";
import { makeModelDir, removeDir } from "../support/modelFixture";

describe("scanModelDir", () => {
  const made: string[] = [];
  const model = (versions: string[], extra?: (root: string) => void) => {
    const dir = makeModelDir(versions, extra);
    made.push(dir);
    return dir;
  };
  afterAll(() => made.forEach(removeDir));

  it("reports the version TF Serving will serve: the largest number, not the last in text order", () => {
    const scan = scanModelDir(model(["9", "10", "1763528202"]));
    expect(scan.versions.map((version) => version.version)).toEqual(["9", "10", "1763528202"]);
    expect(scan.servedVersion).toBe("1763528202");
  });

  it("accepts saved_model.pbtxt as well as saved_model.pb", () => {
    const dir = model([], (root) => {
      fs.mkdirSync(path.join(root, "3"));
      fs.writeFileSync(path.join(root, "3", "saved_model.pbtxt"), "");
    });
    expect(scanModelDir(dir).servedVersion).toBe("3");
  });

  it("ignores non-numeric folders with a warning, as TF Serving does", () => {
    const scan = scanModelDir(model(["5"], (root) => fs.mkdirSync(path.join(root, "assets.extra"))));
    expect(scan.versions).toHaveLength(1);
    expect(scan.warnings).toEqual([expect.stringMatching(/tfserving-platform:modelDir: folder "assets.extra" is not a numeric version/)]);
  });

  it.each([
    ["not found", () => "/nonexistent/model", /does not exist/],
    ["a file", () => path.join(model(["1"]), "1", "saved_model.pb"), /is a file/],
    ["without numeric version folders", () => model([], (root) => fs.mkdirSync(path.join(root, "export"))), /no numeric version folder/],
    [
      "with a version folder missing its SavedModel",
      () => model(["1"], (root) => fs.mkdirSync(path.join(root, "2"))),
      /version folder "2" .* has no saved_model.pb or saved_model.pbtxt/,
    ],
  ])("rejects a model dir %s, naming the key", (_case, dir, reason) => {
    expect(() => scanModelDir(dir())).toThrow(ModelDirError);
    expect(() => scanModelDir(dir())).toThrow(/^tfserving-platform:modelDir: /);
    expect(() => scanModelDir(dir())).toThrow(reason);
  });
});
