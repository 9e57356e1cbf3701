import * as path from "node:path";
import { DEFAULT_IMAGES, imageRelease } from "../../components/config/versions";

/** Git-ignored folder of tools built for the tests, one subfolder per tool and release. */
export const TOOLS_DIR = path.resolve(__dirname, "..", "..", ".tools");

/** The command that builds every monitoring tool the tests run; printed whenever one is missing. */
export const BUILD_COMMAND = "npm run build:tools";

export interface MonitoringToolSet {
  /** The default image these binaries stand for in tests. */
  image: string;
  /** Release of the image, e.g. 3.13.5; the binaries report it in `--version`. */
  release: string;
  goModule: string;
  goModuleVersion: string;
  /** Folder under TOOLS_DIR, keyed by release so a version bump builds afresh. */
  folder: string;
  /** Main packages of the module, each built into a binary named after its folder. */
  packages: string[];
  /** Files `go:embed` needs that the module's zip lacks (built web UIs, unused by the tests). */
  embedPlaceholders: string[];
}

/** Prometheus 3.x publishes Go module versions v0.3MM.P: 3.13.5 is v0.313.5. */
export function prometheusModuleVersion(release: string): string {
  const match = /^3\.(\d+)\.(\d+)$/.exec(release);
  if (!match) throw new Error(`Prometheus release ${release} is not 3.x.y; its Go module version cannot be derived`);
  return `v0.3${match[1].padStart(2, "0")}.${match[2]}`;
}

function toolSet(image: string, goModule: string, goModuleVersion: (release: string) => string, packages: string[], embedPlaceholders: string[] = []): MonitoringToolSet {
  const release = imageRelease(image);
  const name = goModule.slice(goModule.lastIndexOf("/") + 1);
  return { image, release, goModule, goModuleVersion: goModuleVersion(release), folder: `${name}-${release}`, packages, embedPlaceholders };
}

export const MONITORING_TOOL_SETS = {
  prometheus: toolSet(DEFAULT_IMAGES.prometheus, "github.com/prometheus/prometheus", prometheusModuleVersion, ["./cmd/prometheus", "./cmd/promtool"]),
  alertmanager: toolSet(DEFAULT_IMAGES.alertmanager, "github.com/prometheus/alertmanager", (release) => `v${release}`, ["./cmd/alertmanager", "./cmd/amtool"], [
    "ui/app/dist/elm/index.html",
    "ui/app/dist/mantine/index.html",
  ]),
} as const;

export type MonitoringTool = "prometheus" | "promtool" | "alertmanager" | "amtool";

/** Which tool set builds each binary. */
export const TOOL_SET_OF: Record<MonitoringTool, keyof typeof MONITORING_TOOL_SETS> = {
  prometheus: "prometheus",
  promtool: "prometheus",
  alertmanager: "alertmanager",
  amtool: "alertmanager",
};

/** Where a binary lives once built. */
export function toolPath(tool: MonitoringTool, toolsDir = TOOLS_DIR): string {
  const set = MONITORING_TOOL_SETS[TOOL_SET_OF[tool]];
  return path.join(toolsDir, set.folder, process.platform === "win32" ? `${tool}.exe` : tool);
}

/** The release a binary reports in `--version` output, e.g. "prometheus, version 3.13.5 (branch: ...)". */
export function reportedRelease(versionOutput: string): string | undefined {
  return /\bversion (\d+\.\d+\.\d+)/.exec(versionOutput)?.[1];
}
