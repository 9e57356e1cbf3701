import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MonitoringTool, monitoringTool } from "./monitoringTools";

export interface ToolRun {
  status: number | null;
  output: string;
}

function run(tool: MonitoringTool, args: string[]): ToolRun {
  const result = spawnSync(monitoringTool(tool), args, { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** promtool of the default Prometheus image's release. */
export const promtool = (...args: string[]): ToolRun => run("promtool", args);

/** amtool of the default Alertmanager image's release. */
export const amtool = (...args: string[]): ToolRun => run("amtool", args);

/** A temp folder for one test's rendered files; the test removes it (fs.rmSync). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}
