/**
 * Throw it from a task to end the run at once, without the retries it has left.
 *
 * @example
 * if (!isValidEmail(to)) throw new NonRetryableError(`bad address ${to}`);
 */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
  readonly retryable = false;
}

export interface ErrorDescription {
  type: string;
  message: string;
  stack: string;
  retryable: boolean;
}

/** How a thrown value is reported on the run: its class name, message and stack. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    return {
      type: error.name && error.name !== "Error" ? error.name : (error.constructor?.name ?? "Error"),
      message: error.message,
      stack: error.stack ?? "",
      retryable: (error as { retryable?: unknown }).retryable !== false,
    };
  }
  return { type: typeof error, message: String(error), stack: "", retryable: true };
}
