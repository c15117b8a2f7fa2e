import { createRequire } from 'node:module';

/** The names the public `@tensorflow/tfjs-core` API offers, at its root and in its namespaces. */
export interface PublicTfjsNames {
  root: ReadonlySet<string>;
  /** `util`, `backend_util`: namespaces that whole internal modules of tfjs-core are re-exported into. */
  namespaces: ReadonlyMap<string, ReadonlySet<string>>;
}

const NAMESPACES = ['util', 'backend_util'] as const;

/** Reads the names from the installed tfjs-core, so they always match the version we bundle against. */
export function publicTfjsNames(resolveFrom: string): PublicTfjsNames {
  const tf = createRequire(resolveFrom)('@tensorflow/tfjs-core') as Record<string, unknown>;
  const namespaces = new Map<string, ReadonlySet<string>>();
  for (const name of NAMESPACES) {
    namespaces.set(name, new Set(Object.keys(tf[name] as object)));
  }
  return { root: new Set(Object.keys(tf)), namespaces };
}
