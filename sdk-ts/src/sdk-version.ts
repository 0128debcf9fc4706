import { readFileSync } from "node:fs";

/** This SDK's version, told to the server in Hello. */
export const SDK_VERSION: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
