import { makeModelDir, removeDir } from "./support/modelFixture";
import { UNKNOWN_DURING_PREVIEW } from "./support/mockProgram";
import { runProgram, stackRunOptions } from "./support/program";

/**
 * `pulumi preview` in pull-request review: resource outputs are unknown there, so nothing may depend
 * on a value only `up` produces (the deploy command's stdout, a container's port, a password).
 */
describe("preview (outputs unknown)", () => {
  let modelDir: string;
  beforeAll(() => {
    modelDir = makeModelDir();
  });
  afterAll(() => removeDir(modelDir));

  it.each(["dev", "prod"] as const)("%s evaluates and registers the same resources as an update", async (stack) => {
    const preview = await runProgram({ ...stackRunOptions(stack, modelDir), preview: true });
    const update = await runProgram(stackRunOptions(stack, modelDir));
    const names = (run: typeof update) => run.resources.map((resource) => `${resource.type}/${resource.name}`).sort();
    expect(names(preview)).toEqual(names(update));
    // A reviewer sees which build context would ship before anything runs.
    expect(preview.outputs.contextHash).toBe(update.outputs.contextHash);
    expect(preview.outputs.imageRef).toBe(update.outputs.imageRef);
  });

  it("leaves the Railway domain unknown until the deploy has run", async () => {
    const preview = await runProgram({ ...stackRunOptions("prod", modelDir), preview: true });
    expect(preview.outputs.railwayDomain).toBe(UNKNOWN_DURING_PREVIEW);
    expect(preview.outputs.servingUrl).toBe(UNKNOWN_DURING_PREVIEW);
  });
});
