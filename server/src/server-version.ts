import { readFileSync } from "node:fs";

/** The server package's version, told to workers in Welcome. */
export const SERVER_VERSION: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;
