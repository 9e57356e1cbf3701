// No install of its own: the CLI resolves @pulumi/pulumi/cmd/run-policy-pack from this folder, and Node finds
// it, @pulumi/policy, yaml and ts-node in the project's node_modules, so one root `npm ci` serves program and pack.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Constructing the pack starts the analyzer the Pulumi engine talks to.
new PolicyPack("tfserving-platform-policies", { policies });
