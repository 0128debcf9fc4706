import { defineConfig } from "vite";

// No React plugin: Vite's own (Oxc) JSX transform is all the build needs, and the build
// stays a few seconds in CI. The app is served by the taskwire server, never by a Vite dev server.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    // Into the server package, which serves it and ships it (its package.json "files"):
    // a server installed from npm or in the Docker image has no ui/ beside it.
    outDir: "../server/ui-dist",
    emptyOutDir: true,
    // One script and one stylesheet: no inline module preload polyfill, so the CSP needs
    // no 'unsafe-inline'.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // TanStack Query marks its modules "use client" for server components; a plain
      // browser bundle has nothing to keep it for.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
