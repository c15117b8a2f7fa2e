import { defineConfig } from 'vitest/config';

// vitest 5 formats failed suites with Map.groupBy, which Node 20 lacks: without this a failing
// import is reported as a crash of the reporter instead of the real error.
if (!('groupBy' in Map)) {
  Object.defineProperty(Map, 'groupBy', {
    value<K, T>(items: Iterable<T>, keyOf: (item: T, index: number) => K): Map<K, T[]> {
      const groups = new Map<K, T[]>();
      let index = 0;
      for (const item of items) {
        const key = keyOf(item, index++);
        const group = groups.get(key);
        if (group) group.push(item);
        else groups.set(key, [item]);
      }
      return groups;
    },
  });
}

/** Tests run on source (the `source` export condition), on the cpu backend unless `tfjs: false`. */
export function packageTestConfig({ tfjs = true }: { tfjs?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      setupFiles: tfjs ? [new URL('./vitest.setup.ts', import.meta.url).pathname] : [],
      testTimeout: 600_000,
      hookTimeout: 600_000,
    },
  });
}
