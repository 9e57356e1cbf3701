/**
 * A small reader of the bundled model's expected probabilities (`assets/diabetes-sample-predictions.json`,
 * `{"predictions": [{"row": {...}, "probability": p}]}`), written by the model's training step.
 */
import * as fs from "node:fs";
import { parseDiabetesRow } from "../../components/serving/tfExample";
import { ExpectedPrediction } from "./checks";

export function readSamplePredictions(file: string): ExpectedPrediction[] {
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { predictions?: { row: unknown; probability: unknown }[] };
  if (!Array.isArray(parsed.predictions) || parsed.predictions.length === 0) throw new Error(`${file} holds no predictions`);
  return parsed.predictions.map(({ row, probability }) => {
    if (typeof probability !== "number" || !(probability >= 0 && probability <= 1)) throw new Error(`${file}: every prediction needs a probability in [0, 1]`);
    return { row: parseDiabetesRow(row), probability };
  });
}
