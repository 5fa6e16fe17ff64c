import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defaultClientConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const uiDir = fileURLToPath(new URL('.', import.meta.url));
const testing = Boolean(process.env.VITEST);

export default defineConfig({
  root: uiDir,
  // Keep Vite/Vitest caches with the installed packages, not in ui/.
  cacheDir: fileURLToPath(new URL('../node_modules/.vite', import.meta.url)),
  // Relative asset URLs so the bundle works from Tauri's custom protocol.
  base: './',
  // Keep Rust/Tauri output visible when both run in one terminal.
  clearScreen: false,
  plugins: [svelte()],
  // Vitest runs under Node, which would otherwise pick Svelte's server build
  // and make mount() unavailable in jsdom.
  resolve: testing ? { conditions: ['browser', ...defaultClientConditions] } : undefined,
  server: {
    port: 5173,
    // Tauri's devUrl points at this exact port; fail rather than drift.
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK/WKWebView on older OS releases lag behind evergreen Chrome.
    target: ['chrome105', 'safari15'],
    // hls.js (~580 kB) is its own chunk, loaded only when a preview opens;
    // the main chunk stays far below this.
    chunkSizeWarningLimit: 640,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
