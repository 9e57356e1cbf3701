import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireTool } from "./tools";

export interface ToolRun {
  status: number | null;
  output: string;
}

function run(command: string, debianPackage: string, args: string[]): ToolRun {
  requireTool(command, `apt-get install ${debianPackage}`);
  const result = spawnSync(command, args, { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** promtool from Debian's `prometheus` package; fails with an install hint when missing. */
export const promtool = (...args: string[]): ToolRun => run("promtool", "prometheus", args);

/** amtool from Debian's `prometheus-alertmanager` package. */
export const amtool = (...args: string[]): ToolRun => run("amtool", "prometheus-alertmanager", args);

/** A temp folder for one test's rendered files; remove it with removeTempDir. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}
