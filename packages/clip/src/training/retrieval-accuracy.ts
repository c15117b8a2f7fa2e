/** Top-1 retrieval in both directions over one text-image similarity matrix. */
export interface RetrievalAccuracy {
  /** For each text query, is the most similar image a match? The fraction that is. */
  textToImage: number;
  /** For each image query, is the most similar text a match? The fraction that is. */
  imageToText: number;
  /** What picking an image at random would score: the mean fraction of images that match each text. */
  textToImageChance: number;
  /** What picking a text at random would score. */
  imageToTextChance: number;
  /** How many texts and images were asked about. */
  textQueries: number;
  imageQueries: number;
}

export interface RetrievalAccuracyOptions {
  /** Which rows (texts) are queries; default all. The candidates are always every image. */
  isTextQuery?: (text: number) => boolean;
  /** Which columns (images) are queries; default all. The candidates are always every text. */
  isImageQuery?: (image: number) => boolean;
}

/**
 * Top-1 accuracy from `similarity` [texts, images] (row-major): text-to-image takes each row's
 * largest entry, image-to-text each column's, and `isMatch(text, image)` says whether the pick is
 * right, so a text may match several images (and an image several texts). Ties go to the lowest
 * index; NaN never wins, and a query whose scores are all NaN or -Infinity counts as a miss.
 */
export function retrievalAccuracy(
  similarity: ArrayLike<number>,
  shape: readonly [texts: number, images: number],
  isMatch: (text: number, image: number) => boolean,
  options: RetrievalAccuracyOptions = {},
): RetrievalAccuracy {
  const [texts, images] = shape;
  if (!Number.isInteger(texts) || !Number.isInteger(images) || texts < 1 || images < 1) {
    throw new Error(`retrievalAccuracy: shape must be two positive integers, got [${shape.join(', ')}]`);
  }
  if (similarity.length !== texts * images) {
    throw new Error(
      `retrievalAccuracy: shape [${texts}, ${images}] needs ${texts * images} values, got ${similarity.length}`,
    );
  }
  const { isTextQuery = () => true, isImageQuery = () => true } = options;
  const at = (text: number, image: number) => similarity[text * images + image]!;

  let textHits = 0;
  let textChance = 0;
  let textQueries = 0;
  for (let t = 0; t < texts; t++) {
    if (!isTextQuery(t)) continue;
    textQueries++;
    const best = argmax(images, (i) => at(t, i));
    let matches = 0;
    for (let i = 0; i < images; i++) if (isMatch(t, i)) matches++;
    if (best >= 0 && isMatch(t, best)) textHits++;
    textChance += matches / images;
  }

  let imageHits = 0;
  let imageChance = 0;
  let imageQueries = 0;
  for (let i = 0; i < images; i++) {
    if (!isImageQuery(i)) continue;
    imageQueries++;
    const best = argmax(texts, (t) => at(t, i));
    let matches = 0;
    for (let t = 0; t < texts; t++) if (isMatch(t, i)) matches++;
    if (best >= 0 && isMatch(best, i)) imageHits++;
    imageChance += matches / texts;
  }

  const mean = (sum: number, count: number) => (count === 0 ? Number.NaN : sum / count);
  return {
    textToImage: mean(textHits, textQueries),
    imageToText: mean(imageHits, imageQueries),
    textToImageChance: mean(textChance, textQueries),
    imageToTextChance: mean(imageChance, imageQueries),
    textQueries,
    imageQueries,
  };
}

/** The index of the largest of `count` values (the first on ties), or -1 when none exceeds -Infinity. */
function argmax(count: number, value: (index: number) => number): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const v = value(k);
    if (v > bestValue) {
      best = k;
      bestValue = v;
    }
  }
  return best;
}
