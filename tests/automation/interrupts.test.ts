import { interruptCounter } from "../../scripts/automation/interrupts";

describe("interruptCounter", () => {
  it("counts one Ctrl+C delivered twice (terminal and npm's shell) once, and a later one again", () => {
    let now = 10_000;
    const count = interruptCounter(2000, () => now);
    expect(count()).toBe(1);
    now += 5; // the same Ctrl+C, forwarded by npm's script shell
    expect(count()).toBe(1);
    now += 1990; // still within 2 s of the first
    expect(count()).toBe(1);
    now += 3000; // the user presses Ctrl+C again
    expect(count()).toBe(2);
    now += 2000;
    expect(count()).toBe(3);
  });
});
