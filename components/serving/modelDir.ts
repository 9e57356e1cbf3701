import * as fs from "node:fs";
import * as path from "node:path";

export interface ModelVersion {
  version: string;
  /** Absolute path of the version folder. */
  dir: string;
}

export interface ModelScan {
  /** Numeric version folders, ascending by version number. */
  versions: ModelVersion[];
  /** The version TF Serving serves under its default policy: the largest number. */
  servedVersion: string;
  /** Non-fatal findings (folders TF Serving will skip). */
  warnings: string[];
}

export class ModelDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelDirError";
  }
}

const KEY = "tfserving-platform:modelDir";
const NUMERIC = /^\d+$/;

/**
 * Checks a TFX Pusher output folder the way TF Serving reads it: numeric version folders, each with
 * a SavedModel. Anything TF Serving would refuse fails here, at preview time, with what to do.
 */
export function scanModelDir(modelDir: string, shownAs = modelDir): ModelScan {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(modelDir);
  } catch {
    throw new ModelDirError(
      `${KEY}: "${shownAs}" does not exist (resolved to ${modelDir}). Point it at the TFX Pusher output ` +
        `that holds numeric version folders, e.g. \`pulumi config set ${KEY} ./serving_model/diabetes-prediction\`.`,
    );
  }
  if (!stat.isDirectory()) {
    throw new ModelDirError(`${KEY}: "${shownAs}" is a file, not a folder. Point it at the folder that holds numeric version folders (e.g. 1763528202/).`);
  }

  const versions: ModelVersion[] = [];
  const warnings: string[] = [];
  for (const entry of fs.readdirSync(modelDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (!NUMERIC.test(entry.name)) {
      warnings.push(`${KEY}: folder "${entry.name}" is not a numeric version; TF Serving skips it and so does the image.`);
      continue;
    }
    const dir = path.join(modelDir, entry.name);
    if (!fs.existsSync(path.join(dir, "saved_model.pb")) && !fs.existsSync(path.join(dir, "saved_model.pbtxt"))) {
      throw new ModelDirError(
        `${KEY}: version folder "${entry.name}" in "${shownAs}" has no saved_model.pb or saved_model.pbtxt. ` +
          `Re-export the model there or remove the folder.`,
      );
    }
    versions.push({ version: entry.name, dir });
  }
  if (versions.length === 0) {
    throw new ModelDirError(
      `${KEY}: "${shownAs}" has no numeric version folder, so TF Serving would log "No versions of servable found" and never ` +
        `become AVAILABLE. Point it at the folder whose children are versions such as 1763528202/saved_model.pb.`,
    );
  }
  versions.sort((a, b) => (BigInt(a.version) < BigInt(b.version) ? -1 : BigInt(a.version) > BigInt(b.version) ? 1 : 0));
  return { versions, servedVersion: versions[versions.length - 1].version, warnings };
}

/** A version TF Serving warms up on load (recording model_warmup_latency) ships its requests in this file. */
export const WARMUP_REQUESTS_FILE = "assets.extra/tf_serving_warmup_requests";

export function hasWarmupRequests(version: ModelVersion): boolean {
  return fs.existsSync(path.join(version.dir, ...WARMUP_REQUESTS_FILE.split("/")));
}
