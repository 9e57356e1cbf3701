import * as path from "node:path";
import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { bool, integer, ipAddress, key, pinnedImage, port, setHint } from "../config/schema";
import { DEFAULT_IMAGES } from "../config/versions";

/**
 * The demo model committed with the project (see the README's "Demo model"): what `dev` serves when
 * modelDir is not set. A railway stack never serves it.
 */
export const BUNDLED_MODEL_DIR = "models/diabetes-prediction";

/**
 * The platform the TF Serving image is built and run for. TF Serving publishes linux/amd64 images only
 * (tensorflow/serving#1948), so an arm64 host (Apple Silicon) builds and runs them under amd64 emulation.
 */
export const DEFAULT_IMAGE_PLATFORM = "linux/amd64";

/** The serving part's keys: the model, TF Serving's flags and where it runs. */
export const servingKeys = {
  modelName: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be lowercase letters, digits and single dashes, e.g. diabetes-prediction")
    .default("diabetes-prediction"),
  // Optional for deployTarget local (defaults to BUNDLED_MODEL_DIR); required for railway, checked below.
  modelDir: z.string().min(1, "must not be empty").optional(),
  deployTarget: z.enum(["local", "railway"], { error: "must be `local` (Docker on this machine) or `railway`" }).default("local"),
  tfServingImage: pinnedImage.default(DEFAULT_IMAGES.tfServing),
  restPort: port.default(8501),
  grpcPort: port.default(8500),
  metricsPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be an absolute URL path such as /monitoring/prometheus/metrics")
    .default("/monitoring/prometheus/metrics"),
  restApiNumThreads: integer(1, 1024).optional(),
  restApiTimeoutMs: integer(1, 3_600_000).optional(),
  enableBatching: bool.default(false),
  batchMaxBatchSize: integer(1, 1_000_000).optional(),
  batchTimeoutMicros: integer(0, 60_000_000).optional(),
  batchMaxEnqueuedBatches: integer(1, 100_000_000).optional(),
  batchNumBatchThreads: integer(1, 1024).optional(),
  readinessTimeoutSeconds: integer(10, 3600).default(600),
  hostBindAddress: ipAddress("127.0.0.1").default("127.0.0.1"),
  servingHostPort: port.optional(),
  imagePlatform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "must be os/arch[/variant] in lowercase, e.g. linux/amd64 or linux/arm64/v8")
    .default(DEFAULT_IMAGE_PLATFORM),
};

export interface BatchingParameters {
  maxBatchSize?: number;
  batchTimeoutMicros?: number;
  maxEnqueuedBatches?: number;
  numBatchThreads?: number;
}

const BATCH_KEYS = ["batchMaxBatchSize", "batchTimeoutMicros", "batchMaxEnqueuedBatches", "batchNumBatchThreads"] as const;

export function servingProblems({ plain, projectDir }: ConfigContext): string[] {
  const problems: string[] = [];
  if (plain.restPort === plain.grpcPort) {
    problems.push(`${key("grpcPort")}: must differ from ${key("restPort")} (both are ${plain.restPort}); ${setHint("grpcPort", "8500")}`);
  }
  const batchKeysSet = BATCH_KEYS.filter((name) => plain[name] !== undefined);
  if (!plain.enableBatching && batchKeysSet.length > 0) {
    problems.push(
      `${batchKeysSet.map(key).join(", ")}: batching parameters are set but ${key("enableBatching")} is false, ` +
        `and TF Serving refuses to start that way; ${setHint("enableBatching", "true")} or remove the parameters`,
    );
  }
  if (plain.deployTarget === "railway") {
    // Production never picks up the demo model by default or by accident.
    if (plain.modelDir === undefined) {
      problems.push(
        `${key("modelDir")}: is required when deployTarget is railway: the TFX Pusher output folder that holds numeric version folders ` +
          `(the bundled demo model is for dev only); ${setHint("modelDir", "./serving_model/diabetes-prediction")}`,
      );
    } else if (path.resolve(projectDir, plain.modelDir) === path.resolve(projectDir, BUNDLED_MODEL_DIR)) {
      problems.push(
        `${key("modelDir")}: "${plain.modelDir}" is the bundled demo model, which is not for production (README, "Demo model"); ` +
          `point it at your own TFX Pusher output: ${setHint("modelDir", "./serving_model/diabetes-prediction")}`,
      );
    }
  }
  return problems;
}

export function servingDerived({ plain, projectDir }: ConfigContext) {
  // A railway stack without modelDir was refused by servingProblems.
  const modelDir = plain.modelDir ?? BUNDLED_MODEL_DIR;
  const batching: BatchingParameters | undefined = plain.enableBatching
    ? {
        maxBatchSize: plain.batchMaxBatchSize,
        batchTimeoutMicros: plain.batchTimeoutMicros,
        maxEnqueuedBatches: plain.batchMaxEnqueuedBatches,
        numBatchThreads: plain.batchNumBatchThreads,
      }
    : undefined;
  return {
    /** As set, or BUNDLED_MODEL_DIR for a local stack that does not set it. */
    modelDir,
    /** modelDir resolved against the project folder. */
    modelDirAbsolute: path.resolve(projectDir, modelDir),
    /** Set only when enableBatching is true. */
    batching,
  };
}
