import * as tf from '@tensorflow/tfjs-core';

/**
 * How a parameter is laid out in a PyTorch state dict, relative to ours (channels-last).
 * - `same`: identical (biases, norms, embeddings).
 * - `linear`: ours is [in, out] so `x @ W` needs no transpose; PyTorch's is [out, in].
 * - `conv2d`: ours is HWIO [kh, kw, in, out]; PyTorch's is OIHW [out, in, kh, kw].
 */
export type TorchLayout = 'same' | 'linear' | 'conv2d';

export interface Parameter {
  readonly variable: tf.Variable;
  readonly layout: TorchLayout;
  /** Buffers (position ids, fixed tables) are saved and loaded but not trained. */
  readonly trainable: boolean;
}

/**
 * A tree of named parameters, named like PyTorch module attributes so that
 * `namedParameters()` keys equal PyTorch/Hugging Face state-dict keys.
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /** Takes ownership of `value`: pass a fresh tensor; it is disposed once the variable holds its data. */
  protected addParameter(
    name: string,
    value: tf.Tensor,
    layout: TorchLayout = 'same',
    trainable = true,
  ): tf.Variable {
    assertFreeName(name, this.ownParameters, this.children);
    const variable = tf.variable(value, trainable);
    value.dispose();
    this.ownParameters.set(name, { variable, layout, trainable });
    return variable;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    assertFreeName(name, this.ownParameters, this.children);
    this.children.set(name, module);
    return module;
  }

  /** Every parameter and buffer under its dotted state-dict key, in registration order. */
  namedParameters(prefix = ''): Map<string, Parameter> {
    const out = new Map<string, Parameter>();
    for (const [name, parameter] of this.ownParameters) out.set(prefix + name, parameter);
    for (const [name, child] of this.children) {
      for (const [key, parameter] of child.namedParameters(`${prefix}${name}.`)) out.set(key, parameter);
    }
    return out;
  }

  /** Trainable variables only: what an optimizer updates. */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((p) => p.trainable).map((p) => p.variable);
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    let total = 0;
    for (const variable of this.trainableVariables()) total += variable.size;
    return total;
  }

  dispose(): void {
    for (const parameter of this.ownParameters.values()) parameter.variable.dispose();
    for (const child of this.children.values()) child.dispose();
    this.ownParameters.clear();
    this.children.clear();
  }
}

/** Children named '0', '1', ... like `torch.nn.ModuleList`. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    for (const [index, item] of items.entries()) this.addModule(String(index), item);
    this.items = items;
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): M {
    const item = this.items[index];
    if (item === undefined)
      throw new RangeError(`ModuleList index ${index} out of range [0, ${this.items.length})`);
    return item;
  }
}

function assertFreeName(
  name: string,
  parameters: Map<string, unknown>,
  children: Map<string, unknown>,
): void {
  if (name === '' || name.includes('.')) throw new Error(`Invalid parameter or module name "${name}"`);
  if (parameters.has(name) || children.has(name))
    throw new Error(`Duplicate parameter or module name "${name}"`);
}
