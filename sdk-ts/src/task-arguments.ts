import type { Assignment } from "@taskwire/proto";
import { decodeParameters, KeywordArgumentError } from "./json-payload.js";

/**
 * The arguments a task is called with, from its assignment's parameters. Parameters that
 * cannot be read fail the attempt for good (retryable false): another attempt would read
 * the same bytes.
 */
export function taskArguments(assignment: Assignment, parameterNames: readonly string[] | undefined): unknown[] {
  try {
    return decodeParameters(assignment.parameters?.data ?? new Uint8Array(), parameterNames);
  } catch (error) {
    if (error instanceof KeywordArgumentError) {
      throw Object.assign(new Error(`task ${assignment.taskKey} ${error.message}`), { name: "TypeError", retryable: false });
    }
    throw Object.assign(new Error(`the parameters are not valid JSON: ${(error as Error).message}`), {
      name: "InvalidParameters",
      retryable: false,
    });
  }
}
