/** Command-line flag parsing shared by the project's scripts. */

/** A bad flag: the scripts report it and exit 2, before doing anything. */
export class UsageError extends Error {}

/** A finite number given to --flag; a usage error naming the flag otherwise. */
export function numberFlag(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new UsageError(`--${flag} must be a number (got "${text}")`);
  return value;
}
