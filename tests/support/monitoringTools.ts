import * as fs from "node:fs";
import { BUILD_COMMAND, MONITORING_TOOL_SETS, MonitoringTool, TOOL_SET_OF, toolPath } from "../../scripts/tools/monitoringTools";

export type { MonitoringTool };

/**
 * Path of a Prometheus or Alertmanager binary of the default images' release, built by
 * `npm run build:tools`. Fails (never skips) with that command when the binary is missing.
 */
export function monitoringTool(tool: MonitoringTool, toolsDir?: string): string {
  const binary = toolPath(tool, toolsDir);
  if (!fs.existsSync(binary)) {
    const set = MONITORING_TOOL_SETS[TOOL_SET_OF[tool]];
    throw new Error(`${tool} ${set.release} (standing for ${set.image}) is not built: ${binary} is missing. Build it with \`${BUILD_COMMAND}\` (needs Go).`);
  }
  return binary;
}
