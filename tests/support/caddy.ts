import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderCaddyConfig, FrontDoorSpec } from "../../components/frontDoor/caddyConfig";
import { monitoringTool } from "./monitoringTools";
import { ServerProcess, startServerProcess } from "./serverProcess";

/** A rendered front door config in a fresh temporary folder. */
export function writeCaddyConfig(spec: FrontDoorSpec): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "front-door-")), "caddy.json");
  fs.writeFileSync(file, renderCaddyConfig(spec));
  return file;
}

/** `caddy validate` on a rendered config: loads and provisions every module, as the container's start would. */
export function caddyValidate(spec: FrontDoorSpec, env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(monitoringTool("caddy"), ["validate", "--config", writeCaddyConfig(spec)], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The real caddy running the rendered config; the keys reach it as environment variables, as in the image. */
export function startCaddy(spec: FrontDoorSpec, env: Record<string, string>, readyUrl: string): Promise<ServerProcess> {
  return startServerProcess("caddy", monitoringTool("caddy"), ["run", "--config", writeCaddyConfig(spec)], readyUrl, env);
}
