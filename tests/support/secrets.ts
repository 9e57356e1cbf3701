/** Pulumi's wire form of a secret as the mocks receive it: { [SECRET_SIG]: SECRET_VALUE, value }. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export const isSecret = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;

/** The value inside a secret, or the value itself when it is plain. */
export const revealed = <T = unknown>(value: unknown): T => (isSecret(value) ? value.value : value) as T;
