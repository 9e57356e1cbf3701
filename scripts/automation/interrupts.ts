/**
 * Counts the user's interrupts. One Ctrl+C can reach this process twice, from the terminal and again
 * forwarded by npm's script shell (bash forwards it, dash does not), so a signal within `windowMs` of
 * the last one counted is the same interrupt.
 */
export function interruptCounter(windowMs = 2000, now: () => number = Date.now): () => number {
  let count = 0;
  let lastCounted = -Infinity;
  return () => {
    const at = now();
    if (at - lastCounted >= windowMs) {
      count += 1;
      lastCounted = at;
    }
    return count;
  };
}
