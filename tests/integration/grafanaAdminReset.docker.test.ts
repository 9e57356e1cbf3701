import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GRAFANA_IMAGE_ENTRYPOINT, adminResetEntrypoint } from "../../components/grafana/adminReset";
import { buildBusyboxImage, containerLogs, docker, requireDocker, uniqueSuffix } from "../support/docker";
import { removeDir } from "../support/modelFixture";

/**
 * Grafana's entrypoint on a real Docker engine, in a stand-in image with the official image's paths: a
 * fake `grafana` that records how it was called and what it read on stdin, and a fake /run.sh (the
 * image's own entrypoint) that reports it started.
 */
const suffix = uniqueSuffix();
const IMAGE = `tfserving-platform-test/grafana-entrypoint:${suffix}`;
const PASSWORD = "Stack2Password4Grafana";

const FAKE_GRAFANA = `#!/bin/sh
echo "$*" > /tmp/grafana-argv
cat > /tmp/grafana-stdin
if [ -n "$FAKE_GRAFANA_FAILS" ]; then echo "Error: could not read user from database" >&2; exit 1; fi
echo "Admin password changed successfully"
`;
const FAKE_RUN_SH = `#!/bin/sh
echo "run.sh started as pid $$ with [$*]"
[ -f /tmp/grafana-argv ] && echo "cli argv: $(cat /tmp/grafana-argv)" && echo "cli stdin: $(cat /tmp/grafana-stdin)"
exit 0
`;

describe("Grafana's admin-password reset at container start", () => {
  let workDir: string;
  const containers: string[] = [];

  beforeAll(() => {
    requireDocker();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-grafana-reset-"));
    buildBusyboxImage(workDir, IMAGE, {
      files: { grafana: { text: FAKE_GRAFANA }, "run.sh": { text: FAKE_RUN_SH } },
      lines: [
        "COPY grafana /usr/share/grafana/bin/grafana",
        `COPY run.sh ${GRAFANA_IMAGE_ENTRYPOINT}`,
        `RUN chmod 0755 /usr/share/grafana/bin/grafana ${GRAFANA_IMAGE_ENTRYPOINT} && mkdir -p /tmp /var/lib/grafana /etc/grafana /old-stack-volume && touch /old-stack-volume/grafana.db`,
        // The official image's environment.
        "ENV PATH=/usr/share/grafana/bin:/bin GF_PATHS_HOME=/usr/share/grafana GF_PATHS_CONFIG=/etc/grafana/grafana.ini GF_PATHS_DATA=/var/lib/grafana",
        `ENTRYPOINT ["${GRAFANA_IMAGE_ENTRYPOINT}"]`,
      ],
    });
  }, 120_000);

  afterAll(() => {
    for (const container of containers) spawnSync("docker", ["rm", "-f", container]);
    spawnSync("docker", ["rmi", "-f", IMAGE]);
    if (workDir) removeDir(workDir);
  });

  /** Runs the stand-in with the program's entrypoint until it exits; returns its logs. */
  function start(env: Record<string, string>): string {
    const container = `tfserving-platform-test-grafana-${suffix}-${containers.length}`;
    containers.push(container);
    const [executable, ...args] = adminResetEntrypoint();
    const envFlags = Object.entries({ GF_SECURITY_ADMIN_PASSWORD: PASSWORD, ...env }).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
    docker(["run", "-d", "--name", container, ...envFlags, "--entrypoint", executable, IMAGE, ...args]);
    expect(docker(["wait", container]).trim()).toBe("0");
    return containerLogs(container);
  }

  it("leaves a fresh volume to the server, which creates the admin from the environment", () => {
    const logs = start({});
    expect(logs).toContain("run.sh started as pid 1 with []");
    expect(logs).not.toContain("cli argv");
  });

  it("resets the password on a database an earlier stack left, reading it on stdin, then execs the image's entrypoint", () => {
    const logs = start({ GF_PATHS_DATA: "/old-stack-volume" });
    expect(logs).toContain(
      "cli argv: cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin\n",
    );
    expect(logs).toContain(`cli stdin: ${PASSWORD}\n`);
    expect(logs).toContain("admin password set to the stack's on the existing database");
    expect(logs).toContain("run.sh started as pid 1 with []");
  });

  it("still starts the server when the reset fails, saying so", () => {
    const logs = start({ GF_PATHS_DATA: "/old-stack-volume", FAKE_GRAFANA_FAILS: "1" });
    expect(logs).toContain("could not reset the admin password on the existing database");
    expect(logs).toContain("run.sh started as pid 1 with []");
  });
});
