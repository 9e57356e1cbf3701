/**
 * What `npm start`'s refresh asks the Docker engine for a dev stack: one inspect per container (4),
 * network (1) and volume (3), as the Docker provider's reads do (the Image's read asks nothing). Timed
 * over the engine's API on its unix socket, against real objects created here and removed afterwards.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const docker = (args: string[]) => spawnSync("docker", args, { encoding: "utf8", timeout: 120_000 });

function get(socketPath: string, apiPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath, path: apiPath, timeout: 10_000 }, (response) => {
      response.resume();
      response.once("end", () => resolve(response.statusCode ?? 0));
    });
    request.once("timeout", () => request.destroy(new Error(`${apiPath}: timed out`)));
    request.once("error", reject);
  });
}

/** Median wall time of the 8 reads in parallel (the engine refreshes resources concurrently), or why it could not be measured. */
export async function measureRefreshReads(work: string, rounds = 20): Promise<{ medianMs: number } | { skipped: string }> {
  const host = process.env.DOCKER_HOST?.trim() || "unix:///var/run/docker.sock";
  if (!host.startsWith("unix://")) return { skipped: `DOCKER_HOST ${host} is not a unix socket` };
  if (!fs.existsSync("/bin/busybox")) return { skipped: "/bin/busybox missing (apt-get install busybox-static)" };
  const socketPath = host.slice("unix://".length);
  const prefix = `bench-refresh-${process.pid}`;
  const context = path.join(work, "refresh-image");
  fs.mkdirSync(context, { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(context, "busybox"));
  fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\n");
  const image = `${prefix}:1`;
  const containers = ["serving", "prometheus", "grafana", "alertmanager"].map((part) => `${prefix}-${part}`);
  const volumes = ["prometheus", "grafana", "alertmanager"].map((part) => `${prefix}-${part}-data`);
  try {
    for (const args of [["build", "-q", "-t", image, context], ["network", "create", prefix], ...volumes.map((name) => ["volume", "create", name]), ...containers.map((name) => ["container", "create", "--name", name, "--network", prefix, image, "/bin/busybox", "true"])]) {
      const result = docker(args);
      if (result.status !== 0) return { skipped: `docker ${args.slice(0, 2).join(" ")} failed: ${result.stderr.trim().split("\n")[0]}` };
    }
    const paths = [...containers.map((name) => `/containers/${name}/json`), `/networks/${prefix}`, ...volumes.map((name) => `/volumes/${name}`)];
    const times: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const started = process.hrtime.bigint();
      const codes = await Promise.all(paths.map((apiPath) => get(socketPath, apiPath)));
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (codes.some((code) => code !== 200)) return { skipped: `an inspect answered ${codes.join(", ")}` };
    }
    return { medianMs: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] };
  } finally {
    docker(["rm", "-f", ...containers]);
    docker(["network", "rm", prefix]);
    docker(["volume", "rm", ...volumes]);
    docker(["image", "rm", "-f", image]);
  }
}
