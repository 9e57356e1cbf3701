import * as fs from "node:fs";
import * as path from "node:path";
import { BUNDLED_MODEL_DIR } from "../components/config/stackConfig";
import { listFiles } from "../components/serving/contextHash";
import { scanModelDir } from "../components/serving/modelDir";
import { PROJECT_DIR, runProgram, stackRunOptions } from "./support/program";

const BUNDLED = path.join(PROJECT_DIR, BUNDLED_MODEL_DIR);
const CONTEXT_MODEL = path.join(PROJECT_DIR, ".build", "dev", "tfserving", "model");

describe("the bundled demo model", () => {
  it("is a TFX Pusher folder that scanModelDir accepts as it is", () => {
    const scan = scanModelDir(BUNDLED);
    expect(scan.versions.map((version) => version.version)).toEqual(["1"]);
    expect(scan.warnings).toEqual([]);
    const bytes = listFiles(BUNDLED).reduce((sum, file) => sum + fs.statSync(path.join(BUNDLED, file)).size, 0);
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it("is what dev serves when modelDir is not set: the build context holds exactly its files", async () => {
    const run = await runProgram(stackRunOptions("dev", undefined));
    expect(run.one("docker:index/image:Image").inputs.build).toMatchObject({ context: ".build/dev/tfserving" });
    expect(listFiles(CONTEXT_MODEL)).toEqual(listFiles(BUNDLED));
    for (const file of listFiles(BUNDLED)) {
      expect(fs.readFileSync(path.join(CONTEXT_MODEL, file)).equals(fs.readFileSync(path.join(BUNDLED, file)))).toBe(true);
    }
  });

  it("is never deployed by prod: without modelDir, or pointed at it, prod stops before any resource", async () => {
    await expect(runProgram(stackRunOptions("prod", undefined))).rejects.toThrow(/tfserving-platform:modelDir: is required when deployTarget is railway/);
    await expect(runProgram(stackRunOptions("prod", BUNDLED_MODEL_DIR))).rejects.toThrow(/tfserving-platform:modelDir: "models\/diabetes-prediction" is the bundled demo model/);
  });
});
