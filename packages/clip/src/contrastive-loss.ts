import * as tf from '@tensorflow/tfjs-core';

/**
 * CLIP's symmetric contrastive loss: the mean of the cross-entropy of each text against the images
 * (rows of `logitsPerText` [N, N]) and of each image against the texts (columns), where pair i
 * matches text i with image i. A scalar; its gradient flows into the logits and the temperature.
 */
export function contrastiveLoss(logitsPerText: tf.Tensor): tf.Scalar {
  const [n, m] = logitsPerText.shape;
  if (logitsPerText.rank !== 2 || n !== m || n === 0) {
    throw new Error(
      `contrastiveLoss: expected square logits [N, N] pairing text i with image i, got [${logitsPerText.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const targets = tf.range(0, n as number, 1, 'int32'); // [N]
    const textLoss = crossEntropy(logitsPerText, targets);
    const imageLoss = crossEntropy(tf.transpose(logitsPerText), targets);
    return tf.div(tf.add(textLoss, imageLoss), 2) as tf.Scalar;
  });
}

/** Mean over rows of -log softmax(logits)[row, target[row]]. */
function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = logits.shape[0] as number;
    const logProbs = tf.logSoftmax(logits, -1); // [N, N]
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(targets, n)), -1); // [N]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
