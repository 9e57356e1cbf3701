import { z } from "zod";
import type { ConfigContext } from "../config/part";
import { pinnedImage, port } from "../config/schema";
import { DEFAULT_IMAGES } from "../config/versions";

/** The Grafana part's keys. */
export const grafanaKeys = {
  grafanaImage: pinnedImage.default(DEFAULT_IMAGES.grafana),
  grafanaHostPort: port.default(3000),
  grafanaAdminUser: z.string().regex(/^[A-Za-z0-9_.@-]+$/, "must be a plain user name").default("admin"),
  dashboardTitle: z.string().min(1).optional(),
};

/** `diabetes-prediction` -> `Diabetes_Prediction-monitoring`, the title of the hand-built dashboard. */
export function defaultDashboardTitle(modelName: string): string {
  const words = modelName.split("-").map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return `${words.join("_")}-monitoring`;
}

export function grafanaDerived({ plain }: ConfigContext) {
  return { dashboardTitle: plain.dashboardTitle ?? defaultDashboardTitle(plain.modelName) };
}
