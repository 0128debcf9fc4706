// Runs `npm ci` only when node_modules does not hold what package-lock.json asks for:
// npm records what it installed in node_modules/.package-lock.json, and each package the
// lock file names must be there at its version (optional ones for other platforms may be
// missing). So `npm test` after `npm ci && npm start` installs nothing again, and after a
// pull that changed a dependency it reinstalls before building. Contents, not mtimes: a
// checkout rewrites package-lock.json without changing it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repository = fileURLToPath(new URL("..", import.meta.url));

/** Why `root`'s node_modules is out of date, or undefined when it is not. */
export function staleReason(root = repository) {
  const lock = join(root, "package-lock.json");
  const installed = join(root, "node_modules/.package-lock.json");
  if (!existsSync(installed)) return "node_modules is not installed";
  const wanted = JSON.parse(readFileSync(lock, "utf8")).packages;
  const have = JSON.parse(readFileSync(installed, "utf8")).packages;
  for (const [path, entry] of Object.entries(wanted)) {
    if (!path.startsWith("node_modules/") && !path.includes("/node_modules/")) continue;
    if (have[path] === undefined && entry.optional) continue;
    if (have[path]?.version !== entry.version) {
      return `node_modules has ${path.replace(/^.*node_modules\//, "")}@${have[path]?.version ?? "nothing"}, package-lock.json wants ${entry.version}`;
    }
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const reason = staleReason();
  if (reason !== undefined) {
    console.log(`${reason}: running npm ci`);
    const result = spawnSync("npm", ["ci"], { cwd: repository, stdio: "inherit" });
    process.exit(result.status ?? 1);
  }
}
