import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { makeImageGrid, type RawImage } from '../src/image/index.js';

/** A 3x2 RGB image whose every byte is `n * 10 + channel + 1`, so each tile is recognisable. */
const tile = (n: number): RawImage => ({
  width: 3,
  height: 2,
  channels: 3,
  data: Uint8Array.from({ length: 18 }, (_, i) => n * 10 + (i % 3) + 1),
});

function pixel(image: RawImage, x: number, y: number): number[] {
  const at = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(at, at + image.channels));
}

describe('makeImageGrid', () => {
  test('default layout: ceil(sqrt(N)) columns, 2-pixel padding around and between, padValue 0', async () => {
    const grid = await makeImageGrid([0, 1, 2, 3, 4].map(tile));
    expect([grid.width, grid.height, grid.channels]).toEqual([3 * 5 + 2, 2 * 4 + 2, 3]);
    for (let y = 0; y < grid.height; y++) {
      for (let x = 0; x < grid.width; x++) {
        const column = Math.floor((x - 2) / 5);
        const row = Math.floor((y - 2) / 4);
        const inside = (x - 2) % 5 < 3 && (y - 2) % 4 < 2 && x >= 2 && y >= 2;
        const n = row * 3 + column;
        const expected = inside && n < 5 ? [n * 10 + 1, n * 10 + 2, n * 10 + 3] : [0, 0, 0];
        expect(pixel(grid, x, y), `(${x}, ${y})`).toEqual(expected);
      }
    }
  });

  test('columns, zero padding and per-channel padValue', async () => {
    const tight = await makeImageGrid([0, 1, 2].map(tile), { columns: 2, padding: 0 });
    expect([tight.width, tight.height]).toEqual([6, 4]);
    expect(pixel(tight, 3, 1)).toEqual([11, 12, 13]);
    expect(pixel(tight, 0, 2)).toEqual([21, 22, 23]);
    expect(pixel(tight, 5, 3)).toEqual([0, 0, 0]);

    const row = await makeImageGrid([0, 1].map(tile), { columns: 8, padding: 1, padValue: [255, 128, 7] });
    expect([row.width, row.height]).toEqual([2 * 4 + 1, 4]);
    expect(pixel(row, 0, 0)).toEqual([255, 128, 7]);
    expect(pixel(row, 4, 1)).toEqual([255, 128, 7]);
    expect(pixel(row, 5, 2)).toEqual([11, 12, 13]);
  });

  test('a [N, H, W, 3] tensor in [-1, 1] gives the same grid as its images, without leaking', async () => {
    const batch = tf.tensor4d([-1, 0, 1, 1, 0, -1, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5], [2, 1, 2, 3]);
    const before = tf.memory().numTensors;
    const grid = await makeImageGrid(batch, { padding: 1, padValue: 9 });
    expect(tf.memory().numTensors).toBe(before);
    expect([grid.width, grid.height]).toEqual([7, 3]);
    expect(pixel(grid, 1, 1)).toEqual([0, 128, 255]);
    expect(pixel(grid, 2, 1)).toEqual([255, 128, 0]);
    expect(pixel(grid, 3, 1)).toEqual([9, 9, 9]);
    expect(pixel(grid, 4, 1)).toEqual([191, 191, 191]);
    expect(pixel(grid, 5, 1)).toEqual([64, 64, 64]);
    batch.dispose();
  });

  test('refuses mixed sizes, bad options and empty input', async () => {
    const other: RawImage = { width: 2, height: 2, channels: 3, data: new Uint8Array(12) };
    await expect(makeImageGrid([tile(0), other])).rejects.toThrow(/image 1 is 2x2x3, image 0 is 3x2x3/);
    await expect(makeImageGrid([tile(0)], { columns: 0 })).rejects.toThrow(
      /columns must be a positive integer/,
    );
    await expect(makeImageGrid([tile(0)], { padding: -1 })).rejects.toThrow(
      /padding must be a non-negative integer/,
    );
    await expect(makeImageGrid([tile(0)], { padValue: 300 })).rejects.toThrow(/padValue must be a byte/);
    await expect(makeImageGrid([tile(0)], { padValue: [1, 2] })).rejects.toThrow(/one per channel \(3\)/);
    await expect(makeImageGrid([])).rejects.toThrow(/no images/);
  });
});
