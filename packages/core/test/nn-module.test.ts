import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { Module, ModuleList } from '../src/index.js';

class Leaf extends Module {
  readonly weight: tf.Variable;
  constructor() {
    super();
    // Deliberately not inside tf.tidy: addParameter owns and frees its initial value.
    this.weight = this.addParameter('weight', tf.ones([2, 3]), 'linear');
    this.addParameter('steps', tf.scalar(0, 'int32'), 'same', false);
  }
}

class Tree extends Module {
  readonly blocks = this.addModule('blocks', new ModuleList([new Leaf(), new Leaf()]));
}

test('parameters are named by their path, buffers are not trainable', () => {
  const tree = new Tree();
  expect([...tree.namedParameters().keys()]).toEqual([
    'blocks.0.weight',
    'blocks.0.steps',
    'blocks.1.weight',
    'blocks.1.steps',
  ]);
  expect(tree.trainableVariables()).toHaveLength(2);
  expect(tree.numParameters()).toBe(12);
  tree.dispose();
});

test('constructing and disposing a module leaves no tensor behind', () => {
  const before = tf.memory().numTensors;
  const tree = new Tree();
  expect(tf.memory().numTensors).toBe(before + 4);
  tree.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

test('duplicate and dotted names are refused', () => {
  class Bad extends Module {
    constructor(name: string) {
      super();
      this.addParameter('w', tf.zeros([1]));
      this.addParameter(name, tf.zeros([1]));
    }
  }
  expect(() => new Bad('w')).toThrow(/Duplicate parameter or module name "w"/);
  expect(() => new Bad('a.b')).toThrow(/Invalid parameter or module name "a.b"/);
  expect(() => new ModuleList([]).at(0)).toThrow(/out of range/);
});
