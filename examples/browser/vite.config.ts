import { defineConfig } from 'vite';

// Cross-origin isolation gives the page SharedArrayBuffer, which tfjs' wasm backend needs for threads.
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative URLs, so that dist/ works from any path of any static server.
  base: './',
  // The worker imports backends on demand, which needs an ES module worker.
  worker: { format: 'es' },
  // No minifying: tfjs' threaded wasm backend starts its pthread workers from the source text of
  // the Emscripten factory (`factory.toString()`), which stops working once a minifier renames the
  // names that text shares with the rest of the bundle ("ReferenceError: e is not defined").
  build: { target: 'es2022', chunkSizeWarningLimit: 2000, minify: false },
  server: { headers: ISOLATION },
  preview: { headers: ISOLATION },
});
