import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyTask } from "taskwire";
import { CliError } from "./cli-error.js";

/** A `task serve` argument: `./file.ts:exportName`, or `./file.ts` for its default export. */
export interface TaskExportSpec {
  readonly path: string;
  readonly exportName: string;
}

const typeScriptExtensions = new Set([".ts", ".mts", ".cts", ".tsx"]);
let typeScriptRegistered = false;

/** Splits `./file.ts:exportName`; a colon followed by a path (`C:\…`) is part of the path. */
export function parseTaskExportSpec(spec: string): TaskExportSpec {
  const colon = spec.lastIndexOf(":");
  const name = spec.slice(colon + 1);
  if (colon > 0 && /^[A-Za-z_$][\w$]*$/.test(name)) {
    return { path: spec.slice(0, colon), exportName: name };
  }
  return { path: spec, exportName: "default" };
}

/**
 * Imports a TypeScript or JavaScript file and returns the named export, checked to be a
 * taskwire task.
 *
 * @throws CliError naming the file and export when the file is missing, fails to load,
 * lacks the export, or the export is not a task.
 */
export async function loadTaskExport(spec: TaskExportSpec, cwd = process.cwd()): Promise<AnyTask> {
  const absolutePath = resolve(cwd, spec.path);
  const label = `${spec.path}:${spec.exportName}`;
  if (!existsSync(absolutePath)) {
    throw new CliError(`cannot serve ${label}: file not found: ${absolutePath}`);
  }

  let moduleNamespace: Record<string, unknown>;
  try {
    moduleNamespace = await importFile(absolutePath);
  } catch (error) {
    throw new CliError(`cannot serve ${label}: loading ${spec.path} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }

  if (!(spec.exportName in moduleNamespace)) {
    const exported = Object.keys(moduleNamespace).filter((key) => key !== "__esModule");
    const available = exported.length === 0 ? "it exports nothing" : `its exports: ${exported.join(", ")}`;
    throw new CliError(`cannot serve ${label}: ${spec.path} has no export named '${spec.exportName}' (${available})`);
  }
  const value = moduleNamespace[spec.exportName];
  if (!isTask(value)) {
    throw new CliError(
      `cannot serve ${label}: '${spec.exportName}' is not a taskwire task (got ${describe(value)}); export the value returned by task(...)`,
    );
  }
  return value;
}

async function importFile(absolutePath: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(absolutePath).href;
  if (!typeScriptExtensions.has(extname(absolutePath))) {
    return import(url);
  }
  const { register, tsImport } = await import("tsx/esm/api");
  if (!isEsmFile(absolutePath)) {
    // Only tsImport loads TypeScript that Node treats as CommonJS with its named exports.
    return tsImport(url, import.meta.url);
  }
  if (!typeScriptRegistered) {
    // Registered once for the whole process rather than using tsImport(): tsImport loads
    // the file and everything it imports under its own namespace, so the file would get a
    // second copy of the taskwire SDK, apart from the one `serve` runs in.
    register();
    typeScriptRegistered = true;
  }
  return import(url);
}

/** Whether Node loads the file as an ES module: .mts, or .ts under `"type": "module"`. */
function isEsmFile(absolutePath: string): boolean {
  const extension = extname(absolutePath);
  if (extension === ".mts" || extension === ".cts") {
    return extension === ".mts";
  }
  for (let directory = dirname(absolutePath); ; directory = dirname(directory)) {
    const packageJson = join(directory, "package.json");
    if (existsSync(packageJson)) {
      try {
        return (JSON.parse(readFileSync(packageJson, "utf8")) as { type?: unknown }).type === "module";
      } catch {
        return false;
      }
    }
    if (dirname(directory) === directory) {
      return false;
    }
  }
}

/**
 * What `task(...)` returns: a function with a `taskKey` and `delay`. Checked by shape, not
 * with instanceof, since a file may have been loaded with its own copy of the SDK.
 */
function isTask(value: unknown): value is AnyTask {
  if (typeof value !== "function") {
    return false;
  }
  const candidate = value as unknown as Partial<Record<"taskKey" | "delay", unknown>>;
  return typeof candidate.taskKey === "string" && typeof candidate.delay === "function";
}

function describe(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (typeof value === "function") {
    return value.name === "" ? "a function" : `function ${value.name}, not wrapped in task()`;
  }
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
