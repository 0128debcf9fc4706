// One lint run over the hand-written TypeScript: `npm run lint`, and a suite of `npm test`.
// Type-aware, because the rules that matter most here need types: an unawaited promise in
// the broker either loses work silently or, when it rejects, crashes the server.
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    // Generated code is never edited, so it is not linted; build output neither. Plain
    // JavaScript (scripts, the CLI shim, fixtures) has no types for these rules to use.
    ignores: ["**/gen/**", "**/dist/**", "**/node_modules/**", "sdk-python/**", "**/*.js", "**/*.mjs", "**/*.cjs"],
  },
  {
    files: [
      "server/src/**/*.ts",
      "sdk-ts/src/**/*.ts",
      "conformance/src/**/*.ts",
      "conformance/workers/**/*.ts",
      "examples/*.ts",
      "examples/polyglot/*.ts",
      "examples/{shared,web-app,signup,ask}/*.ts",
      "examples/nice-grpc-worker/src/**/*.ts",
      "ui/src/**/*.{ts,tsx}",
    ],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // Each file is checked with the tsconfig of its package; the polyglot tasks belong
        // to none (the CLI loads them with tsx), so they get the default program.
        projectService: { allowDefaultProject: ["examples/polyglot/*.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // From the recommended set, the ones this codebase already passed: awaiting what is
      // not a promise hides a missing call; throwing what is not an Error loses the stack.
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/only-throw-error": "error",
    },
  },
);
