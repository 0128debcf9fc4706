/** The content type of taskwire's default encoding. */
export const JSON_CONTENT_TYPE = "application/json";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Thrown by `delay()` (and by a worker for a result) when a value cannot travel as JSON:
 * the run is refused where the mistake is made instead of being lost at the other end.
 */
export class UnserializableValueError extends TypeError {
  override name = "UnserializableValueError";
  constructor(
    /** Where in the value: "args[0].when", "result". */
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}; taskwire sends values as JSON`);
  }
}

/** Throws UnserializableValueError unless JSON carries `value` without loss. */
export function assertJsonValue(value: unknown, path: string, seen = new Set<object>()): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new UnserializableValueError(path, `${value} is not a finite number`);
      return;
    case "undefined":
      throw new UnserializableValueError(path, "undefined has no JSON form (use null)");
    case "bigint":
      throw new UnserializableValueError(path, "a bigint has no JSON form (send it as a string)");
    case "function":
    case "symbol":
      throw new UnserializableValueError(path, `a ${typeof value} cannot be sent`);
  }
  if (value === null) return;
  const object = value as object;
  // Values that chose their JSON form (Date, URL, user classes) are sent as that form.
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") return;
  if (seen.has(object)) throw new UnserializableValueError(path, "the value refers to itself (a cycle)");
  seen.add(object);
  if (Array.isArray(object)) {
    object.forEach((item, i) => assertJsonValue(item, `${path}[${i}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const name = object.constructor?.name ?? "object";
      throw new UnserializableValueError(path, `a ${name} has no JSON form (convert it to a plain object or array)`);
    }
    for (const [key, item] of Object.entries(object)) {
      if (item !== undefined) assertJsonValue(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(object);
}

/**
 * Encodes a call as taskwire parameters, {"args": [...], "kwargs": {...}}, the shape every
 * language's SDK reads. Trailing undefined arguments are dropped so defaults apply remotely.
 */
export function encodeParameters(args: readonly unknown[], kwargs: Record<string, unknown> = {}): Uint8Array {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  const trimmed = args.slice(0, end);
  trimmed.forEach((arg, i) => assertJsonValue(arg, `args[${i}]`));
  assertJsonValue(kwargs, "kwargs");
  return encoder.encode(JSON.stringify({ args: trimmed, kwargs }));
}

/**
 * The arguments to call a TypeScript task with: positional args, then the keyword
 * arguments a caller (from Python, say) sent. With `parameterNames`, each keyword goes to
 * its parameter's position; without, they arrive as one last object.
 * @throws SyntaxError when the bytes are not JSON; KeywordArgumentError when a keyword
 *   names no parameter, or one the positional arguments gave already.
 */
export function decodeParameters(data: Uint8Array, parameterNames?: readonly string[]): unknown[] {
  if (data.byteLength === 0) return [];
  const parsed = JSON.parse(decoder.decode(data)) as { args?: unknown[]; kwargs?: Record<string, unknown> };
  const args = [...(parsed.args ?? [])];
  const kwargs = Object.entries(parsed.kwargs ?? {});
  if (kwargs.length === 0) return args;
  if (parameterNames === undefined) {
    args.push(parsed.kwargs);
    return args;
  }
  for (const [name, value] of kwargs) {
    const index = parameterNames.indexOf(name);
    if (index < 0) {
      throw new KeywordArgumentError(`got the keyword argument '${name}', but its parameters are ${parameterNames.map((n) => `'${n}'`).join(", ") || "none"}`);
    }
    if (index < (parsed.args?.length ?? 0)) {
      throw new KeywordArgumentError(`got '${name}' both as argument ${index + 1} and as a keyword argument`);
    }
    args[index] = value;
  }
  // Positions between the last given argument and a keyword stay undefined: defaults apply.
  return args;
}

/** Keyword arguments that do not fit a task's declared parameter names. */
export class KeywordArgumentError extends TypeError {
  override name = "KeywordArgumentError";
}

export function encodeJson(value: unknown, path: string): Uint8Array {
  if (value === undefined) return encoder.encode("null");
  assertJsonValue(value, path);
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson(data: Uint8Array): unknown {
  return data.byteLength === 0 ? null : JSON.parse(decoder.decode(data));
}
