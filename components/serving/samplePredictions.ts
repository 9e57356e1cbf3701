/**
 * The bundled demo model's real answers for the sample rows, written by model/train.py when it exports
 * models/diabetes-prediction/1 and kept in sync with the model by the TensorFlow tests. The fakes serve
 * them, and a live test compares a real TF Serving against them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { DiabetesRow, encodeDiabetesExample, parseDiabetesRow } from "./tfExample";

export const SAMPLE_PREDICTIONS_ASSET = path.join(__dirname, "..", "..", "assets", "diabetes-sample-predictions.json");

export interface SamplePrediction {
  row: DiabetesRow;
  /** The model's probability of diabetes for the row (float32, widened to a double). */
  probability: number;
}

export interface SamplePredictions {
  /** The SavedModel version folder the probabilities came from, relative to the project. */
  model: string;
  /** One per row of assets/diabetes-sample-rows.json, in the same order. */
  predictions: SamplePrediction[];
}

const fixtureSchema = z
  .object({
    model: z.string().min(1),
    predictions: z.array(z.object({ row: z.unknown(), probability: z.number().gt(0).lt(1) }).strict()).min(1),
  })
  .strict();

export function loadSamplePredictions(file = SAMPLE_PREDICTIONS_ASSET): SamplePredictions {
  const parsed = fixtureSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new Error(`${file} is not the sample predictions model/train.py writes (${problems}); re-export the model to rewrite it`);
  }
  return { model: parsed.data.model, predictions: parsed.data.predictions.map(({ row, probability }) => ({ row: parseDiabetesRow(row), probability })) };
}

/** Probability by the base64 of the row's serialized tf.Example, the form a predict request carries. */
export function probabilitiesByExample(predictions: SamplePrediction[] = loadSamplePredictions().predictions): Map<string, number> {
  return new Map(predictions.map(({ row, probability }) => [encodeDiabetesExample(row).toString("base64"), probability]));
}

/** The known probability for a predict instance `{"b64": ...}`, or undefined for any other input. */
export function knownProbability(known: Map<string, number>, instance: unknown): number | undefined {
  const b64 = typeof instance === "object" && instance !== null ? (instance as { b64?: unknown }).b64 : undefined;
  // Re-encoded, so base64 without padding or with line breaks finds the same entry.
  return typeof b64 === "string" ? known.get(Buffer.from(b64, "base64").toString("base64")) : undefined;
}
