/**
 * `npm run test:live`: a real `pulumi up` of a throwaway stack `live-<random>` (local file backend in
 * a temporary folder, passphrase secrets provider, the bundled demo model, deployTarget local, free
 * host ports, an Alertmanager posting to a receiver run here), checked from the outside
 * (scripts/live/checks.ts), a second `up` that must change nothing, a one-byte model change that must
 * preview exactly the image and the serving container, then destroy and stack rm whatever happened.
 * A Markdown report lists each phase and its time. Stops at once, with one line, when the Pulumi CLI,
 * a Docker engine, an image or the bundled model is missing. Not part of `npm test`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ConfigMap, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { BUNDLED_MODEL_DIR, DEFAULT_IMAGES, PROJECT, durationMs, parseStackConfig } from "../components/config/stackConfig";
import { PANEL_TITLES, dashboardInput, buildDashboard, dashboardUid } from "../components/grafana/dashboard";
import { PROMETHEUS_DATA_SOURCE } from "../components/grafana/dataSource";
import { DEPLOY_TAG } from "../components/grafana/deployMarker";
import { scanModelDir } from "../components/serving/modelDir";
import { SAMPLE_PREDICTIONS_ASSET, loadSamplePredictions } from "../components/serving/samplePredictions";
import { loadSampleRows } from "../components/serving/tfExample";
import { API_KEY_ENV } from "../components/serving/predict";
import { keyFromApiKeysOutput } from "./apiKey";
import { beforeUp, stackEffects } from "./automation/beforeUp";
import { describeDockerEngine, dockerEngineFor } from "./automation/dockerEngine";
import { MissingToolError, checkPrerequisites, firstLine, imageProblem, runQuiet } from "./automation/preflight";
import { interruptCounter } from "./automation/interrupts";
import { formatChanges, lineWriter } from "./automation/progress";
import { Backend, fileBackendUrl, projectPassphrase, readTextIfPresent, selectOrCreateStack, throwawayPulumiHome } from "./automation/stackHandling";
import { freePort } from "./freePort";
import * as checks from "./live/checks";
import { changedOps, checkChangedExactly, plannedSteps } from "./live/previewChanges";
import { Phases, formatSeconds, markdownReport } from "./live/report";
import { WebhookReceiver, bridgeGateway, receiverAddress, startWebhookReceiver } from "./live/webhookReceiver";

const PROJECT_DIR = path.resolve(__dirname, "..");
const REPORT_FILE = path.join(PROJECT_DIR, ".build", "live-report.md");
const COMMAND = "npm run test:live";

/** Docker's default bridge gateway (undefined on Docker Desktop, where it is not the host). */
async function defaultBridgeGateway(): Promise<string | undefined> {
  const result = await runQuiet("docker", ["network", "inspect", "bridge"], 20_000);
  return result.code === 0 ? bridgeGateway(result.output) : undefined;
}

/** An output's string value; the secrets read (password, keys, metrics credential) are never printed. */
function outputString(outputs: OutputMap, name: string): string {
  const value = outputs[name]?.value;
  if (typeof value !== "string" || value === "") throw new Error(`the stack has no output ${name}`);
  return value;
}

const key = (name: string) => `${PROJECT}:${name}`;

async function main(): Promise<number> {
  // --- fail fast: tools, then the bundled model, then the images (present ones are used as they are; pulling a missing one is the slow part) ---
  const prerequisites = await checkPrerequisites(COMMAND);
  const missingFiles = [path.join(PROJECT_DIR, BUNDLED_MODEL_DIR), SAMPLE_PREDICTIONS_ASSET].filter((file) => !fs.existsSync(file));
  if (missingFiles.length > 0) throw new MissingToolError(`${COMMAND} needs the bundled demo model: ${missingFiles.map((file) => path.relative(PROJECT_DIR, file)).join(" and ")} missing.`);
  const expected = loadSamplePredictions().predictions;
  const images = [DEFAULT_IMAGES.tfServing, DEFAULT_IMAGES.prometheus, DEFAULT_IMAGES.grafana, DEFAULT_IMAGES.alertmanager, DEFAULT_IMAGES.caddy];
  const unpullable = (await Promise.all(images.map((image) => imageProblem(image)))).filter((problem): problem is string => problem !== undefined);
  if (unpullable.length > 0) throw new MissingToolError(`${COMMAND} needs ${unpullable.join("; and ")}.`);

  // --- a throwaway stack that cannot collide with dev: its own name prefix, backend and host ports ---
  const stackName = `live-${randomBytes(4).toString("hex")}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tfserving-live-"));
  const backendDir = path.join(workDir, "backend");
  const backend: Backend = { kind: "file", dir: backendDir, passphrase: projectPassphrase(backendDir) };
  const [servingPort, prometheusPort, grafanaPort, alertmanagerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  // First interrupt: stop the checks and go to cleanup; the Pulumi operation in flight was interrupted by
  // the terminal too and finishes gracefully. Second: cancel that operation (SIGTERM does both at once).
  // Third: exit without cleanup. Cleanup itself takes no signal, so it always runs to the end.
  const stopChecks = new AbortController();
  const cancelPulumi = new AbortController();
  const countInterrupt = interruptCounter();
  const onSignal = (signal: NodeJS.Signals) => {
    const count = signal === "SIGTERM" ? Math.max(countInterrupt(), 2) : countInterrupt();
    if (count >= 3 || (signal === "SIGTERM" && cancelPulumi.signal.aborted)) {
      console.error(`${signal} again: exiting without cleanup; remove the containers tfserving-${stackName}-* and the state in ${backendDir} yourself.`);
      process.exit(130);
    }
    if (!stopChecks.signal.aborted) console.error(`${signal}: stopping, then destroying ${stackName} (again to cancel a running Pulumi operation)`);
    stopChecks.abort();
    if (count >= 2 && !cancelPulumi.signal.aborted) {
      console.error(`${signal}: cancelling the running Pulumi operation (again to exit without cleanup)`);
      cancelPulumi.abort();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const phases = new Phases(undefined, stopChecks.signal);
  const stdout = lineWriter((line) => console.log(`  ${line}`));
  const stderr = lineWriter((line) => console.error(`  ${line}`));
  const stream = { onOutput: stdout.onOutput, onError: stderr.onOutput };
  let stack: Stack | undefined;
  let receiver: WebhookReceiver | undefined;
  console.log(`${COMMAND}: stack ${stackName} on ${fileBackendUrl(backendDir)}`);
  // The same engine npm start uses: DOCKER_HOST, else the Docker CLI's current context.
  const engine = await dockerEngineFor(PROJECT_DIR, stackName, readTextIfPresent);
  console.log(describeDockerEngine(engine));
  try {
    receiver = await phases.run("start the webhook receiver", async () => startWebhookReceiver(receiverAddress(prerequisites.dockerOs, await defaultBridgeGateway())), {
      critical: true,
      describe: (started) => started.url.replace(/\/alerts\/.*/, "/alerts/..."),
    });
    const webhook = receiver!;
    const plain: Record<string, string> = {
      deployTarget: "local",
      modelDir: BUNDLED_MODEL_DIR,
      servingHostPort: String(servingPort),
      prometheusHostPort: String(prometheusPort),
      grafanaHostPort: String(grafanaPort),
      alertmanagerHostPort: String(alertmanagerPort),
      // Rules every 5s, so Watchdog reaches Alertmanager (and, after its 30s group_wait, the webhook) sooner.
      evaluationInterval: "5s",
    };
    // The one secret key: a throwaway URL without credentials (the config API passes it in the CLI's argv).
    // The Grafana password is generated by the stack; the state's passphrase travels only in the environment.
    const config: ConfigMap = {
      ...Object.fromEntries(Object.entries(plain).map(([name, value]) => [key(name), { value, secret: false }])),
      [key("alertmanagerWebhookUrl")]: { value: webhook.url, secret: true },
    };
    const stackConfig = parseStackConfig({ stack: stackName, projectDir: PROJECT_DIR, values: { ...plain, alertmanagerWebhookUrl: webhook.url } });
    stack = await phases.run("create stack", () => selectOrCreateStack({
          projectDir: PROJECT_DIR,
          stackName,
          backend,
          pulumiCommand: prerequisites.pulumi,
          // The user's CLI keeps the stack it had selected for this project.
          pulumiHome: throwawayPulumiHome(path.join(workDir, "pulumi-home")),
          extraEnv: engine.env,
        }), {
      critical: true,
      handlesInterrupt: true,
      describe: () => `${stackName}, passphrase secrets provider, file backend in a temporary folder`,
    });
    const live = stack!;
    await phases.run("configure", () => live.setAllConfig(config), { critical: true, handlesInterrupt: true, describe: () => `host ports ${servingPort}, ${prometheusPort}, ${grafanaPort}, ${alertmanagerPort}` });
    const up = await phases.run("pulumi up", () => live.up({ ...stream, signal: cancelPulumi.signal }), { critical: true, handlesInterrupt: true, describe: (result) => formatChanges(result.summary.resourceChanges) });
    const outputs = up!.outputs;
    const urls = await phases.run(
      "read stack outputs",
      async () => ({
        servingUrl: outputString(outputs, "servingUrl"),
        metricsUrl: outputString(outputs, "metricsUrl"),
        grafanaUrl: outputString(outputs, "grafanaUrl"),
        prometheusUrl: outputString(outputs, "prometheusUrl"),
        auth: { user: outputString(outputs, "grafanaAdminUser"), password: outputString(outputs, "grafanaAdminPassword") },
        // The front door: the stack's generated key (never printed) and Prometheus' credential for the metrics path.
        apiKey: process.env[API_KEY_ENV] || keyFromApiKeysOutput(outputString(outputs, "apiKeys")),
        metricsCredential: outputString(outputs, "metricsCredential"),
      }),
      { critical: true, describe: (found) => `servingUrl ${found.servingUrl}, prometheusUrl ${found.prometheusUrl}, grafanaUrl ${found.grafanaUrl}` },
    );
    const { servingUrl, metricsUrl, grafanaUrl, prometheusUrl, auth, apiKey, metricsCredential } = urls!;
    const model = stackConfig.modelName;
    const dashboard = buildDashboard(dashboardInput(stackConfig, PROMETHEUS_DATA_SOURCE)) as unknown as Parameters<typeof checks.dashboardQueries>[0];
    const queries = checks.dashboardQueries(dashboard);
    const uid = dashboardUid(model);

    await phases.run("model AVAILABLE", () => checks.checkModelAvailable(servingUrl, model, undefined, apiKey));
    await phases.run("predictions match the bundled model", () => checks.checkPredictions(servingUrl, model, expected, undefined, apiKey));
    // TF Serving's own counters before and after are the truth Prometheus is then compared with.
    const traffic = await phases.run("traffic incl. malformed requests, counted by TF Serving", async () => {
      const before = await checks.servedRequestCounts(metricsUrl, model, metricsCredential);
      const sent = await checks.sendTraffic(servingUrl, model, loadSampleRows(), { valid: 40, malformed: 5 }, apiKey);
      const after = await checks.servedRequestCounts(metricsUrl, model, metricsCredential);
      return { after, detail: checks.checkServedCounts(before, after, sent) };
    }, { describe: (result) => result.detail });
    await phases.run("Prometheus target up, no scrape error", () => checks.checkScrapeTarget(prometheusUrl, stackConfig.scrapeJobName));
    await phases.run("Prometheus counts = sent (within one scrape)", async () => {
      if (!traffic) throw new Error("no traffic was counted to compare with");
      const expectedCounts = { OK: traffic.after.OK ?? 0, INVALID_ARGUMENT: traffic.after.INVALID_ARGUMENT ?? 0 };
      return checks.checkPrometheusCounts(prometheusUrl, model, expectedCounts, (durationMs(stackConfig.scrapeInterval) ?? 5000) + 2000);
    });
    await phases.run("every dashboard query returns data", () => checks.checkDashboardQueries(prometheusUrl, queries));
    await phases.run("Watchdog reaches the webhook", () => checks.checkAlertReceived(webhook.received, "Watchdog", 180_000));
    await phases.run("Grafana login", () => checks.checkGrafanaLogin(grafanaUrl, auth));
    await phases.run("Grafana refuses anonymous access", () => checks.checkAnonymousRefused(grafanaUrl, uid));
    await phases.run("Grafana data source health", () => checks.checkDataSourceHealth(grafanaUrl, auth, PROMETHEUS_DATA_SOURCE.uid));
    await phases.run("Grafana dashboard has every panel", () => checks.checkDashboardPanels(grafanaUrl, auth, uid, Object.values(PANEL_TITLES)));
    await phases.run("Grafana deploy marker", () =>
      checks.checkDeployMarker(grafanaUrl, auth, [DEPLOY_TAG, model], scanModelDir(stackConfig.modelDirAbsolute, stackConfig.modelDir).servedVersion),
    );
    const throughput = queries.find((query) => query.key.startsWith(PANEL_TITLES.throughput))!;
    await phases.run("Grafana /api/ds/query returns frames", () => checks.checkPanelQuery(grafanaUrl, auth, { uid: PROMETHEUS_DATA_SOURCE.uid, type: PROMETHEUS_DATA_SOURCE.type }, throughput));

    // What npm start does on a later run: refresh the Docker side, then up. A true no-op: with
    // expectNoChanges the CLI itself fails on any change (a refresh that drifted included); the summary must hold only `same`.
    const effects = stackEffects(live, { ...stream, signal: cancelPulumi.signal }, (line) => console.log(`  ${line}`));
    await phases.run("second run (refresh, then up) changes nothing (the real no-op time)", async () => {
      const started = performance.now();
      const replace = await beforeUp({ stackName, removeLeftovers: false }, effects);
      const refreshed = performance.now();
      if (replace.length > 0) throw new Error(`the refresh found something to replace: ${replace.join(", ")}`);
      const again = await live.up({ ...stream, expectNoChanges: true, signal: cancelPulumi.signal });
      const changes: Record<string, number> = { ...again.summary.resourceChanges };
      if (changedOps(changes).length > 0) throw new Error(`the engine reports ${formatChanges(changes)}`);
      return `${formatChanges(changes)}; refresh ${formatSeconds(refreshed - started)}, up ${formatSeconds(performance.now() - refreshed)}`;
    }, { handlesInterrupt: true });

    // Docker forgets (docker rm, a Docker Desktop reset): the next run must bring the model back.
    await phases.run("a removed serving container comes back (refresh, then up) and answers", async () => {
      const removed = await runQuiet("docker", ["rm", "--force", `tfserving-${stackName}-serving`], 60_000);
      if (removed.code !== 0) throw new Error(`docker rm failed: ${firstLine(removed.output)}`);
      const replace = await beforeUp({ stackName, removeLeftovers: false }, effects);
      const again = await live.up({ ...stream, replace, signal: cancelPulumi.signal });
      await checks.checkModelAvailable(servingUrl, model);
      return `${formatChanges(again.summary.resourceChanges)}; ${model} AVAILABLE again`;
    }, { handlesInterrupt: true });

    await phases.run("one-byte model change previews image + serving container + deploy marker", async () => {
      const copy = path.join(workDir, "model-copy");
      fs.cpSync(path.join(PROJECT_DIR, BUNDLED_MODEL_DIR), copy, { recursive: true });
      const version = fs.readdirSync(copy).find((name) => /^\d+$/.test(name));
      const file = path.join(copy, version ?? "", "saved_model.pb");
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 1] ^= 0x01;
      fs.writeFileSync(file, bytes);
      await live.setConfig(key("modelDir"), { value: copy, secret: false });
      try {
        const events: Parameters<typeof plannedSteps>[0] = [];
        await live.preview({ onEvent: (event) => events.push(event), signal: cancelPulumi.signal });
        return checkChangedExactly(plannedSteps(events), {
          // A new image is a new deploy: its marker is replaced (the old annotation stays in Grafana).
          required: ["docker:index/image:Image::tfserving", "docker:index/container:Container::serving", "grafana:oss/annotation:Annotation::deploy-marker"],
          dependents: ["command:local:Command::serving-ready", `pulumi:pulumi:Stack::${PROJECT}-${stackName}`],
        });
      } finally {
        await live.setConfig(key("modelDir"), { value: BUNDLED_MODEL_DIR, secret: false });
      }
    }, { handlesInterrupt: true });
  } catch (error) {
    // A failed critical phase is in the report already; anything else is recorded here. Cleanup follows.
    if (!phases.results.some((result) => !result.ok)) phases.results.push({ name: "run", ok: false, ms: 0, detail: firstLine(error) });
  } finally {
    await cleanUp(phases, stack, stackName, workDir, backendDir);
    await receiver?.close();
    stdout.end();
    stderr.end();
  }

  const report = markdownReport(`Live test of ${PROJECT} (stack ${stackName})`, phases.results);
  console.log(`\n${report}`);
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  fs.writeFileSync(REPORT_FILE, report);
  if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, report);
  return phases.failed.length === 0 ? 0 : 1;
}

/**
 * Destroy first; a lock left by an interrupted update clears with cancel(), then destroy again.
 * `stack rm --force` only after destroy failed for good (it leaves containers and ports behind, so
 * that is reported). The stack file and build folder go either way; the state folder only when empty of resources.
 */
async function cleanUp(phases: Phases, stack: Stack | undefined, stackName: string, workDir: string, backendDir: string): Promise<void> {
  let destroyed = false;
  if (stack) {
    const live = stack;
    const destroy = () => live.destroy({ onOutput: (chunk) => process.stdout.write(chunk) });
    destroyed =
      (await phases.run("destroy", async () => {
        try {
          await destroy();
        } catch (first) {
          await live.cancel().catch(() => undefined);
          try {
            await destroy();
          } catch {
            throw new Error(`destroy failed twice: ${firstLine(first)}`);
          }
        }
        return true;
      }, { cleanup: true, describe: () => `destroyed ${stackName}` })) === true;
    await phases.run("stack rm", async () => {
      await live.workspace.removeStack(stackName, destroyed ? {} : { force: true });
      return destroyed ? `removed ${stackName}` : `forced: containers tfserving-${stackName}-* and their volumes may be left; remove them with docker rm -f / docker volume rm`;
    }, { cleanup: true });
  }
  fs.rmSync(path.join(PROJECT_DIR, `Pulumi.${stackName}.yaml`), { force: true });
  fs.rmSync(path.join(PROJECT_DIR, ".build", stackName), { recursive: true, force: true });
  if (destroyed || !stack) fs.rmSync(workDir, { recursive: true, force: true });
  else console.error(`The state of ${stackName} stays in ${backendDir} (passphrase in its passphrase.txt) for a manual pulumi destroy.`);
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(error instanceof MissingToolError ? error.message : `${COMMAND} failed: ${firstLine(error)}`);
    process.exitCode = 1;
  },
);
