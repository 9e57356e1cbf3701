import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENTRYPOINT_ASSET, STACK_BUILD_ARG, ServingImageSpec, renderContextFiles, writeBuildContext } from "./buildContext";
import { hashDirectory } from "./contextHash";
import { ModelVersion } from "./modelDir";

export interface TfServingImageArgs {
  spec: ServingImageSpec;
  versions: ModelVersion[];
  /** Build context folder relative to the project (git-ignored), e.g. `.build/dev/tfserving`. */
  contextDir: string;
  /** Build the image with the local Docker engine; Railway builds the same context remotely. */
  buildLocally: boolean;
  /** The stack name, for the image's label (components/shared/dockerLabels.ts). */
  stack: string;
}

/** Image name whose tag is the context digest: same content, same tag, nothing to rebuild. */
export function imageRefFor(modelName: string, contextHash: string): string {
  return `tfserving-platform/${modelName}:${contextHash.slice(0, 12)}`;
}

/**
 * The TF Serving image: a rendered build context (Dockerfile, entrypoint, monitoring config, the
 * model's numeric versions) plus, for local deploys, the image built from it.
 */
export class TfServingImage extends pulumi.ComponentResource {
  /** Content digest of the whole build context; the redeploy trigger for everything downstream. */
  readonly contextHash: pulumi.Output<string>;
  readonly imageRef: pulumi.Output<string>;
  readonly contextDir: string;
  readonly image?: docker.Image;

  constructor(name: string, args: TfServingImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:serving:TfServingImage", name, {}, opts);
    this.contextDir = args.contextDir;

    const files = renderContextFiles(args.spec, fs.readFileSync(ENTRYPOINT_ASSET, "utf8"));
    writeBuildContext(args.contextDir, files, args.versions);
    const cacheFile = path.join(path.dirname(args.contextDir), `${path.basename(args.contextDir)}.hash-cache.json`);
    this.contextHash = pulumi.output(hashDirectory(args.contextDir, { cacheFile }).then((digest) => digest.sha256));
    const imageName = this.contextHash.apply((hash) => imageRefFor(args.spec.modelName, hash));

    if (args.buildLocally) {
      this.image = new docker.Image(
        name,
        // Forward slashes (not path.join): the same inputs from Windows and Linux, so neither sees a diff and rebuilds.
        {
          imageName,
          skipPush: true,
          build: {
            context: args.contextDir,
            dockerfile: `${args.contextDir}/Dockerfile`,
            // Whatever the host's architecture (an arm64 Mac builds amd64 TF Serving); also stops the provider's warning.
            platform: args.spec.platform,
            // The stack's name for the Dockerfile's LABEL, as a build argument: the context and its digest stay the same for every stack.
            args: { [STACK_BUILD_ARG]: args.stack },
          },
        },
        { parent: this },
      );
      this.imageRef = this.image.imageName;
    } else {
      this.imageRef = imageName;
    }
    this.registerOutputs({ contextHash: this.contextHash, imageRef: this.imageRef });
  }
}
