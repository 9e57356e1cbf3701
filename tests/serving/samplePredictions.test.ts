import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { knownProbability, loadSamplePredictions, probabilitiesByExample } from "../../components/serving/samplePredictions";
import { encodeDiabetesExample, loadSampleRows } from "../../components/serving/tfExample";
import { PROJECT_DIR } from "../support/program";

describe("sample predictions fixture", () => {
  it("has one real probability per sample row, in order, from the bundled model", () => {
    const fixture = loadSamplePredictions();
    expect(fixture.model).toBe("models/diabetes-prediction/1");
    expect(fs.existsSync(path.join(PROJECT_DIR, fixture.model, "saved_model.pb"))).toBe(true);
    expect(fixture.predictions.map((prediction) => prediction.row)).toEqual(loadSampleRows());
    // The demo model separates the sample: rows 1 and 3 have diabetes in the data set, rows 2 and 4 do not.
    expect(fixture.predictions.map((prediction) => prediction.probability > 0.5)).toEqual([true, false, true, false]);
  });

  it("refuses a file that is not the fixture, naming it and what to do", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sample-predictions-"));
    const file = path.join(dir, "predictions.json");
    try {
      fs.writeFileSync(file, JSON.stringify({ model: "m", predictions: [{ row: loadSampleRows()[0], probability: 1.5 }] }));
      expect(() => loadSamplePredictions(file)).toThrow(new RegExp(`${file.replace(/[\\/.]/g, "\\$&")} .*predictions\\.0\\.probability.*re-export the model`));
      fs.writeFileSync(file, JSON.stringify({ model: "m", predictions: [{ row: { Glucose: 1 }, probability: 0.5 }] }));
      expect(() => loadSamplePredictions(file)).toThrow(/Pregnancies is missing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds a predict instance's probability by its tf.Example bytes, whatever the base64 padding", () => {
    const { predictions } = loadSamplePredictions();
    const known = probabilitiesByExample(predictions);
    const b64 = encodeDiabetesExample(predictions[1].row).toString("base64");
    expect(knownProbability(known, { b64 })).toBe(predictions[1].probability);
    expect(knownProbability(known, { b64: b64.replace(/=+$/, "") })).toBe(predictions[1].probability);
    expect(knownProbability(known, { b64: encodeDiabetesExample({ ...predictions[1].row, Age: 99 }).toString("base64") })).toBeUndefined();
    expect(knownProbability(known, { instances: [] })).toBeUndefined();
    expect(knownProbability(known, "text")).toBeUndefined();
  });
});
