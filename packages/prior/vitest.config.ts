import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: { setupFiles: ['../../vitest.setup.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
