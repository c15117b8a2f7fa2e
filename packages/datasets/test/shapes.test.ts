import { describe, expect, test } from 'vitest';
import {
  allShapeSpecs,
  captionsFor,
  classifyShapeImage,
  HELD_OUT_PAIRS,
  isHeldOutPair,
  makeShapesDataset,
  renderShape,
} from '../src/index.js';

describe('synthetic shapes', () => {
  test('the same seed gives the same bytes, another seed other examples', () => {
    const a = makeShapesDataset({ count: 20, imageSize: 16, seed: 5 });
    const b = makeShapesDataset({ count: 20, imageSize: 16, seed: 5 });
    const c = makeShapesDataset({ count: 20, imageSize: 16, seed: 6 });
    expect(a.map((e) => e.caption)).toEqual(b.map((e) => e.caption));
    expect(a.every((e, i) => Buffer.from(e.image.data).equals(Buffer.from(b[i]!.image.data)))).toBe(true);
    expect(a.map((e) => e.caption)).not.toEqual(c.map((e) => e.caption));
  });

  test('splits: train never holds a held-out colour/shape pair, heldout holds only those', () => {
    const train = allShapeSpecs('train');
    const heldOut = allShapeSpecs('heldout');
    expect(train.length + heldOut.length).toBe(allShapeSpecs('all').length);
    expect(train.some((s) => isHeldOutPair(s.colour, s.shape))).toBe(false);
    expect(heldOut.every((s) => isHeldOutPair(s.colour, s.shape))).toBe(true);
    const drawn = makeShapesDataset({ count: 300, imageSize: 8, seed: 1, split: 'train' });
    expect(drawn.some((e) => isHeldOutPair(e.spec.colour, e.spec.shape))).toBe(false);
    // Every colour and every shape of a held-out pair is still seen in training.
    for (const [colour, shape] of HELD_OUT_PAIRS) {
      expect(train.some((s) => s.colour === colour)).toBe(true);
      expect(train.some((s) => s.shape === shape)).toBe(true);
    }
  });

  test('captions name the colour and the shape in every phrasing', () => {
    const spec = allShapeSpecs('all')[37]!;
    for (const caption of captionsFor(spec)) {
      expect(caption).toContain(spec.colour);
      expect(caption).toContain(spec.shape);
    }
    const examples = makeShapesDataset({ count: 50, imageSize: 8, seed: 2 });
    expect(new Set(examples.map((e) => e.caption.split(' ').length)).size).toBeGreaterThan(2);
  });

  test('the pixel checker recognises every rendered colour and shape at 32 and 64 px', () => {
    for (const imageSize of [32, 64]) {
      const wrong = allShapeSpecs('all').filter((spec) => {
        const judgement = classifyShapeImage(renderShape(spec, imageSize));
        return judgement.colour !== spec.colour || judgement.shape !== spec.shape;
      });
      expect(wrong).toEqual([]);
    }
  });

  test('the checker reports no shape on a blank image', () => {
    const blank = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(128) };
    expect(classifyShapeImage(blank)).toEqual({ colour: null, shape: null, coverage: 0 });
  });

  test('bad options are refused with the reason', () => {
    expect(() => makeShapesDataset({ count: -1 })).toThrow(/count/);
    expect(() => makeShapesDataset({ count: 1, split: 'test' as never })).toThrow(/train, heldout, all/);
    expect(() => renderShape(allShapeSpecs()[0]!, 4)).toThrow(/imageSize/);
  });
});
