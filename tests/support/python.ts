import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
export const MODEL_DIR = path.join(PROJECT_DIR, "model");
/** Points the tests at another interpreter that has model/requirements.txt installed. */
export const PYTHON_ENV = "TFSERVING_PLATFORM_PYTHON";

const INSTALL_HINT =
  "python3 -m venv .venv && .venv/bin/pip install -r model/requirements.txt " +
  "(Windows: py -m venv .venv; .venv\\Scripts\\pip install -r model\\requirements.txt), " +
  `or set ${PYTHON_ENV} to a Python that has them`;

/** The project's virtual environment interpreter, where `.ci/run` and the README put it. */
export function defaultPython(): string {
  return process.platform === "win32" ? path.join(PROJECT_DIR, ".venv", "Scripts", "python.exe") : path.join(PROJECT_DIR, ".venv", "bin", "python");
}

/** The TensorFlow version model/requirements.txt pins. */
export function pinnedTensorFlow(): string {
  const pin = /^tensorflow-cpu==(\S+)$/m.exec(fs.readFileSync(path.join(MODEL_DIR, "requirements.txt"), "utf8"));
  if (!pin) throw new Error("model/requirements.txt must pin tensorflow-cpu==<version>");
  return pin[1];
}

/** A Python with the pinned TensorFlow and pytest; fails (never skips) with the install command otherwise. */
export function requireTensorFlowPython(): string {
  const python = process.env[PYTHON_ENV] || defaultPython();
  const probe = spawnSync(python, ["-c", "import pytest, tensorflow; print(tensorflow.__version__)"], {
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" },
  });
  if (probe.error || probe.status !== 0) {
    const reason = probe.error?.message ?? probe.stderr.trim().split("\n").pop();
    throw new Error(`The TensorFlow tests need ${python} with model/requirements.txt installed (${reason}). Install them: ${INSTALL_HINT}`);
  }
  const version = probe.stdout.trim();
  if (version !== pinnedTensorFlow()) {
    throw new Error(`${python} has TensorFlow ${version}, but model/requirements.txt pins ${pinnedTensorFlow()}. Reinstall: ${INSTALL_HINT}`);
  }
  return python;
}
