/**
 * The policies of `pulumi preview|up --policy-pack policy`. The checks live in ./rules (pure, unit tested);
 * this file only wires them to resource types. Properties that are still unknown during a preview make
 * the SDK report the policy as advisory "can't run during preview"; `pulumi up` checks them for real.
 */
import { Policies, ReportViolation } from "@pulumi/policy";
import * as path from "node:path";
import {
  TYPES,
  buildContextOf,
  grafanaPasswordProblems,
  imagePinProblems,
  monitoringProblems,
  publicPortProblems,
  receiverAuthProblems,
  scrapeIntervalProblems,
} from "./rules";

// The pack lives in <project>/policy; build contexts are relative to the project.
const PROJECT_DIR = path.resolve(__dirname, "..");

const report = (problems: string[], reportViolation: ReportViolation) => problems.forEach((problem) => reportViolation(problem));

export const policies: Policies = [
  {
    name: "images-pinned",
    description: "Container and image references carry an explicit tag other than latest (or a digest).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => report(imagePinProblems(args.type, args.props), reportViolation),
  },
  {
    name: "host-ports-loopback-only",
    description:
      "Containers publish host ports on 127.0.0.1 only, unless the stack sets allowPublicPorts; a Prometheus whose web config enforces TLS and basic auth (the push-mode receiver) may publish.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowPublicPorts: { type: "boolean", default: false } } },
    validateResource: (args, reportViolation) => {
      if (args.type !== TYPES.container) return;
      const { allowPublicPorts } = args.getConfig<{ allowPublicPorts?: boolean }>();
      report(publicPortProblems(args.props, allowPublicPorts === true), reportViolation);
    },
  },
  {
    name: "grafana-admin-password-generated",
    description: "Grafana's admin password is set, and is the result of a random.RandomPassword, never a literal.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map(({ type, urn, props }) => ({ type, urn, props }));
      for (const { urn, problem } of grafanaPasswordProblems(resources)) reportViolation(problem, urn);
    },
  },
  {
    name: "tfserving-monitoring-enabled",
    description: "The TF Serving build context turns on the Prometheus endpoint and the server is started with it.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      const contextDir = buildContextOf(args.type, args.props);
      if (contextDir !== undefined) report(monitoringProblems(contextDir, PROJECT_DIR), reportViolation);
    },
  },
  {
    name: "scrape-interval-bounds",
    description: "Every scrape interval in the uploaded prometheus.yml lies within 1s..5m.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      if (args.type === TYPES.container) report(scrapeIntervalProblems(args.props), reportViolation);
    },
  },
  {
    name: "remote-write-receiver-authenticated",
    description: "A Prometheus that accepts remote writes requires basic auth through its web config.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      if (args.type === TYPES.container) report(receiverAuthProblems(args.props), reportViolation);
    },
  },
];
