import { DiabetesFeature, DiabetesRow, INT64_FEATURES, loadSampleRows } from "../../components/serving/tfExample";

/**
 * Ranges a real patient row falls in (the Pima diabetes data set without its zero placeholders for
 * missing values), so random rows look like the traffic the model was trained for.
 */
export const PLAUSIBLE_RANGES: Record<DiabetesFeature, [number, number]> = {
  Pregnancies: [0, 15],
  Glucose: [60, 200],
  BloodPressure: [40, 110],
  SkinThickness: [10, 60],
  Insulin: [15, 400],
  BMI: [18, 55],
  DiabetesPedigreeFunction: [0.08, 2.4],
  Age: [21, 80],
};

export function randomRow(random: () => number = Math.random): DiabetesRow {
  const row = {} as DiabetesRow;
  for (const [feature, [min, max]] of Object.entries(PLAUSIBLE_RANGES) as [DiabetesFeature, [number, number]][]) {
    const value = min + random() * (max - min);
    // int64 features are whole numbers; floats get the data set's precision.
    row[feature] = (INT64_FEATURES as readonly string[]).includes(feature) ? Math.round(value) : Number(value.toFixed(3));
  }
  return row;
}

/** The bundled sample rows in turn, or random plausible rows. */
export function rowSource(kind: "sample" | "random"): () => DiabetesRow {
  if (kind === "random") return () => randomRow();
  const rows = loadSampleRows();
  let next = 0;
  return () => rows[next++ % rows.length];
}
