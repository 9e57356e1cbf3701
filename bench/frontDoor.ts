/**
 * The front door's cost: predict latency and throughput straight to the simulator vs through the real caddy
 * (the pinned release, built by `npm run build:tools`) on loopback, in one run. The simulator runs in its own
 * process, answering at once; the load comes from this process over keep-alive connections.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { apiKeyEnv, renderCaddyConfig } from "../components/frontDoor/caddyConfig";
import { predictRequestBody } from "../components/serving/predict";
import { loadSampleRows } from "../components/serving/tfExample";
import { freePort } from "../scripts/freePort";
import { BUILD_COMMAND, toolPath } from "../scripts/tools/monitoringTools";

const MODEL = "diabetes-prediction";
const KEY = "bench-key-0123456789abcdef0123456789abcdef";
const LATENCY_REQUESTS = Number(process.env.BENCH_DOOR_REQUESTS ?? 2000);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_DOOR_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_DOOR_CONCURRENCY ?? 16);

type Record = (measure: string, value: string, goal: string) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilAnswering(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${what} did not answer ${url} within 30 s`);
}

/** One predict over a keep-alive agent; resolves with the round trip in ms, rejects unless HTTP 200. */
function post(agent: http.Agent, port: number, body: string, key?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(
      {
        agent,
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/v1/models/${MODEL}:predict`,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...(key ? { authorization: `Bearer ${key}` } : {}) },
      },
      (response) => {
        response.resume();
        response.on("end", () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${response.statusCode}`))));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Closed loop: `concurrency` clients each send the next request as soon as the last is answered. */
async function throughput(port: number, body: string, key: string | undefined): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
  let done = 0;
  const client = async () => {
    while (performance.now() < deadline) {
      await post(agent, port, body, key);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return done / elapsed;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];

export async function benchFrontDoor(record: Record, projectDir: string): Promise<void> {
  const caddy = toolPath("caddy");
  if (!fs.existsSync(caddy)) {
    record("front door overhead", `caddy is not built (${caddy}); run \`${BUILD_COMMAND}\``, "");
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "front-door-bench-"));
  const children: ChildProcess[] = [];
  try {
    const [simulatorPort, doorPort] = [await freePort(), await freePort()];
    const simulator = spawn(
      process.execPath,
      ["--require", "ts-node/register/transpile-only", "scripts/simulate.ts", "--port", String(simulatorPort), "--scenario", "silence", "--error-ratio", "0", "--latency-ms", "0-0"],
      { cwd: projectDir, stdio: ["pipe", "ignore", "ignore"] },
    );
    children.push(simulator);
    const configFile = path.join(work, "caddy.json");
    fs.writeFileSync(
      configFile,
      renderCaddyConfig({
        modelName: MODEL,
        listen: `127.0.0.1:${doorPort}`,
        upstream: `127.0.0.1:${simulatorPort}`,
        consumers: ["bench"],
        statusOpen: true,
        maxRequestBodyBytes: 1024 * 1024,
        metricsPath: "/monitoring/prometheus/metrics",
        scrapeCredential: false,
        upstreamTimeoutMs: 30_000,
      }),
    );
    const door = spawn(caddy, ["run", "--config", configFile], { env: { ...process.env, [apiKeyEnv("bench")]: KEY }, stdio: "ignore" });
    children.push(door);
    await waitUntilAnswering(`http://127.0.0.1:${simulatorPort}/v1/models/${MODEL}`, simulator, "the simulator");
    await waitUntilAnswering(`http://127.0.0.1:${doorPort}/v1/models/${MODEL}`, door, "caddy");

    const body = predictRequestBody(loadSampleRows()[0]);
    const direct = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const through = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 200; i++) await Promise.all([post(direct, simulatorPort, body), post(through, doorPort, body, KEY)]);
    // Interleaved, one at a time: both paths see the same moments of a shared machine.
    const latencies = { direct: [] as number[], door: [] as number[] };
    for (let i = 0; i < LATENCY_REQUESTS; i++) {
      latencies.direct.push(await post(direct, simulatorPort, body));
      latencies.door.push(await post(through, doorPort, body, KEY));
    }
    direct.destroy();
    through.destroy();
    const [medianDirect, medianDoor] = [quantile(latencies.direct, 0.5), quantile(latencies.door, 0.5)];
    record(`predict median latency, straight / through caddy (${LATENCY_REQUESTS} each)`, `${medianDirect.toFixed(3)} / ${medianDoor.toFixed(3)} ms`, "");
    record("front door median latency overhead", `${(medianDoor - medianDirect).toFixed(3)} ms`, "< 1 ms");
    record("predict p99 latency, straight / through caddy", `${quantile(latencies.direct, 0.99).toFixed(3)} / ${quantile(latencies.door, 0.99).toFixed(3)} ms`, "");

    const directRate = await throughput(simulatorPort, body, undefined);
    const cpuBefore = cpuSeconds(door.pid);
    const doorRate = await throughput(doorPort, body, KEY);
    const cpuAfter = cpuSeconds(door.pid);
    const rates = { direct: directRate, door: doorRate };
    record(
      `predict throughput, straight / through caddy (${CONCURRENCY} clients, ${THROUGHPUT_SECONDS} s each)`,
      `${rates.direct.toFixed(0)} / ${rates.door.toFixed(0)} req/s`,
      "",
    );
    record("front door throughput loss", `${(((rates.direct - rates.door) / rates.direct) * 100).toFixed(1)}%`, "< 10%");
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      // What the door itself costs: on a machine whose cores are all busy (simulator, load, caddy) this, not the door's
      // latency, is what a saturated throughput loses.
      const microseconds = ((cpuAfter - cpuBefore) * 1e6) / (rates.door * THROUGHPUT_SECONDS);
      record("caddy CPU per proxied predict", `${microseconds.toFixed(0)} us (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})`, "");
    }
  } catch (error) {
    record("front door overhead", `failed: ${(error as Error).message}`, "");
  } finally {
    for (const child of children) child.kill("SIGTERM");
    fs.rmSync(work, { recursive: true, force: true });
  }
}
