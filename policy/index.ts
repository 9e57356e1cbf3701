import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Constructing the pack starts the analyzer the Pulumi engine talks to.
new PolicyPack("tfserving-platform-policies", { policies });
