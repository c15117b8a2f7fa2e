import { captionsFor, type ShapeSpec } from '@dalle2js/datasets';
import { describe, expect, it } from 'vitest';
import { captionAttributes, captionMatchesSpec, retrievalAccuracy } from '../src/training/index.js';

describe('retrievalAccuracy', () => {
  const identity = (text: number, image: number) => text === image;

  it('scores the argmax of each row (text to image) and each column (image to text)', () => {
    // Texts 0 and 1 pick their own image; text 2 picks image 0. Column argmax: image 0 -> text 0,
    // image 1 -> text 1, image 2 -> text 2 (0.5 beats 0.4 and 0.1).
    const similarity = [
      [0.9, 0.1, 0.3],
      [0.2, 0.8, 0.1],
      [0.7, 0.4, 0.5],
    ].flat();
    const result = retrievalAccuracy(similarity, [3, 3], identity);
    expect(result.textToImage).toBeCloseTo(2 / 3, 12);
    expect(result.imageToText).toBe(1);
    expect(result.textToImageChance).toBeCloseTo(1 / 3, 12);
    expect(result.imageToTextChance).toBeCloseTo(1 / 3, 12);
    expect(result.textQueries).toBe(3);
    expect(result.imageQueries).toBe(3);
  });

  it('counts a pick right when it is any matching image, not only the paired one', () => {
    // Text 0 ("red circle") matches images 0 and 2; it picks image 2. Text 1 matches only image 1
    // but picks image 0.
    const matches = (text: number, image: number) => (text === 0 ? image !== 1 : image === 1);
    const similarity = [
      [0.1, 0.2, 0.9],
      [0.6, 0.5, 0.0],
    ].flat();
    const result = retrievalAccuracy(similarity, [2, 3], matches);
    expect(result.textToImage).toBe(0.5);
    expect(result.textToImageChance).toBeCloseTo((2 / 3 + 1 / 3) / 2, 12);
    // Columns: image 0 -> text 1 (wrong), image 1 -> text 1 (right), image 2 -> text 0 (right).
    expect(result.imageToText).toBeCloseTo(2 / 3, 12);
    expect(result.imageToTextChance).toBeCloseTo((1 / 2 + 1 / 2 + 1 / 2) / 3, 12);
  });

  it('breaks ties toward the lowest index and never picks NaN', () => {
    const similarity = [
      [0.5, 0.5],
      [Number.NaN, 0.1],
    ].flat();
    const result = retrievalAccuracy(similarity, [2, 2], identity);
    // Row 0 ties and takes image 0 (right); row 1 skips NaN and takes image 1 (right).
    expect(result.textToImage).toBe(1);
    // Column 0: text 0 (NaN never wins), right. Column 1: 0.5 beats 0.1, text 0, wrong.
    expect(result.imageToText).toBe(0.5);
  });

  it('counts a query with no usable score as a miss', () => {
    const result = retrievalAccuracy([Number.NaN, Number.NEGATIVE_INFINITY], [1, 2], () => true);
    expect(result.textToImage).toBe(0);
  });

  it('asks only the chosen queries, against every candidate', () => {
    const similarity = [
      [0.9, 0.1],
      [0.8, 0.2],
    ].flat();
    const result = retrievalAccuracy(similarity, [2, 2], identity, {
      isTextQuery: (text) => text === 1,
      isImageQuery: (image) => image === 1,
    });
    // Text 1 picks image 0 (wrong); image 1 picks text 1 (0.2 > 0.1, right).
    expect(result.textToImage).toBe(0);
    expect(result.imageToText).toBe(1);
    expect(result.textQueries).toBe(1);
    expect(result.imageQueries).toBe(1);
  });

  it('checks the shape', () => {
    expect(() => retrievalAccuracy([1, 2, 3], [2, 2], identity)).toThrow(
      'shape [2, 2] needs 4 values, got 3',
    );
    expect(() => retrievalAccuracy([], [0, 2], identity)).toThrow('shape must be two positive integers');
  });
});

describe('caption attributes', () => {
  const spec: ShapeSpec = {
    shape: 'triangle',
    colour: 'red',
    size: 'small',
    position: 'left',
    background: 'gray',
  };

  it('reads every attribute each phrasing names', () => {
    const named = captionsFor(spec).map((caption) => captionAttributes(caption));
    expect(named).toEqual([
      { size: 'small', colour: 'red', shape: 'triangle' },
      { background: 'gray', colour: 'red', shape: 'triangle' },
      { position: 'left', size: 'small', colour: 'red', shape: 'triangle' },
      { colour: 'red', shape: 'triangle' },
      { background: 'gray', position: 'left', size: 'small', colour: 'red', shape: 'triangle' },
    ]);
    for (const caption of captionsFor(spec)) expect(captionMatchesSpec(caption, spec)).toBe(true);
  });

  it('refuses a spec that differs in any named attribute, and ignores unnamed ones', () => {
    expect(captionMatchesSpec('red triangle', { ...spec, size: 'large', position: 'top' })).toBe(true);
    expect(captionMatchesSpec('red triangle', { ...spec, colour: 'blue' })).toBe(false);
    expect(captionMatchesSpec('a small red triangle', { ...spec, size: 'large' })).toBe(false);
    expect(captionMatchesSpec('a red triangle on a gray background', { ...spec, background: 'white' })).toBe(
      false,
    );
    expect(captionMatchesSpec('a small red triangle at the top', spec)).toBe(false);
  });

  it('does not read the background as the colour of the shape', () => {
    expect(captionAttributes('a green circle on a white background')).toEqual({
      background: 'white',
      colour: 'green',
      shape: 'circle',
    });
  });

  it('refuses ambiguous captions and captions that name no shape', () => {
    expect(() => captionAttributes('a red blue circle')).toThrow('names colour red and blue');
    expect(() => captionAttributes('a photo of a dog')).toThrow('names no shape colour or kind');
  });
});
