import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { key, setHint, setSecretHint } from "../config/schema";

/** The Railway part's keys (used when deployTarget is railway). */
export const railwayKeys = {
  railwayService: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be the Railway service name or id").optional(),
  railwayEnvironment: z.string().min(1).default("production"),
  railwayProjectId: z.string().min(1).optional(),
  railwayCli: z.string().min(1).default("railway"),
};

export const RAILWAY_SECRET_KEYS = ["railwayToken"] as const;

export function railwayProblems({ plain, secretsPresent }: ConfigContext): string[] {
  if (plain.deployTarget !== "railway") return [];
  const problems: string[] = [];
  if (!plain.railwayService) problems.push(`${key("railwayService")}: is required when deployTarget is railway; ${setHint("railwayService", "<service name>")}`);
  // An empty token counts as unset: it would only fail later, inside the deploy.
  if (!secretsPresent.railwayToken) problems.push(`${key("railwayToken")}: is required when deployTarget is railway; ${setSecretHint("railwayToken", "<token>")}`);
  return problems;
}
