import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { moduleExportNames } from './module-export-names.js';
import type { PublicTfjsNames } from './public-tfjs-names.js';

export const TFJS_CORE = '@tensorflow/tfjs-core';

// tfjs-core's dist is emitted by tsc: one import per line, single quotes, extensionless paths.
const IMPORT_LINE = /^import (.+) from '(\.{1,2}\/[^']+)';$/gm;

/** Internal names whose value the public API gives another way: `[public name, expression of it]`. */
const VIA_PUBLIC_API: Record<string, [string, (holder: string) => string]> = {
  // The engine is not exported by name, but `engine()` returns the same global instance.
  ENGINE: ['engine', (engine) => `${engine}()`],
  // tfjs-core registers its `Tensor` class globally on first load; the public class is that one.
  getGlobalTensorClass: ['Tensor', (tensor) => `() => ${tensor}`],
};

interface Binding {
  imported: string;
  local: string;
}

/**
 * Rewrites the relative imports of one tfjs-core dist file so that every name the public
 * `@tensorflow/tfjs-core` offers comes from it; only what is internal stays a relative import and
 * gets bundled. That keeps one engine, one kernel registry and one `Tensor` class.
 */
export function rewriteTfjsImports(source: string, file: string, names: PublicTfjsNames): string {
  let aliasCount = 0;
  const alias = (name: string) => `__tfjs_${name}_${aliasCount++}`;

  return source.replace(IMPORT_LINE, (line, clause: string, specifier: string) => {
    const target = resolveModule(file, specifier);
    const exported = target === undefined ? undefined : moduleExportNames(target);

    const namespaceImport = /^\* as (\w+)$/.exec(clause);
    if (namespaceImport) {
      const local = namespaceImport[1]!;
      const namespace = exported && publicNamespaceOf(exported, names);
      if (namespace === 'root') return `import * as ${local} from '${TFJS_CORE}';`;
      if (namespace) return `import { ${namespace} as ${local} } from '${TFJS_CORE}';`;
      return line;
    }

    const named = /^\{ (.+) \}$/.exec(clause);
    if (!named) return line;
    const namespace = exported && publicNamespaceOf(exported, names);
    const fromRoot: string[] = [];
    const kept: string[] = [];
    const statements: string[] = [];
    for (const { imported, local } of parseBindings(named[1]!)) {
      const text = imported === local ? imported : `${imported} as ${local}`;
      if (names.root.has(imported)) {
        fromRoot.push(text);
      } else if (imported in VIA_PUBLIC_API) {
        const [publicName, expression] = VIA_PUBLIC_API[imported]!;
        const holder = alias(publicName);
        statements.push(
          `import { ${publicName} as ${holder} } from '${TFJS_CORE}';`,
          `const ${local} = ${expression(holder)};`,
        );
      } else if (namespace && namespace !== 'root' && names.namespaces.get(namespace)?.has(imported)) {
        const holder = alias(namespace);
        statements.push(
          `import { ${namespace} as ${holder} } from '${TFJS_CORE}';`,
          `const ${local} = ${holder}.${imported};`,
        );
      } else {
        kept.push(text);
      }
    }
    if (fromRoot.length > 0) statements.unshift(`import { ${fromRoot.join(', ')} } from '${TFJS_CORE}';`);
    if (kept.length > 0) statements.unshift(`import { ${kept.join(', ')} } from '${specifier}';`);
    return statements.join('\n');
  });
}

function parseBindings(list: string): Binding[] {
  return list.split(',').map((part) => {
    const [imported, local] = part.trim().split(/\s+as\s+/);
    return { imported: imported!, local: local ?? imported! };
  });
}

/** The public place that holds every export of a module: the root, a namespace, or none. */
function publicNamespaceOf(exported: readonly string[], names: PublicTfjsNames): string | undefined {
  if (exported.length === 0) return undefined;
  if (exported.every((name) => names.root.has(name))) return 'root';
  for (const [namespace, members] of names.namespaces) {
    if (exported.every((name) => members.has(name))) return namespace;
  }
  return undefined;
}

function resolveModule(file: string, specifier: string): string | undefined {
  const base = resolve(dirname(file), specifier);
  return [`${base}.js`, `${base}/index.js`, base].find((candidate) => existsSync(candidate));
}
