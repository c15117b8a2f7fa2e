import * as tf from '@tensorflow/tfjs-core';

/**
 * CLIP's symmetric contrastive loss when a text may describe several images of the batch:
 * `matches` [N, N] holds 1 where text i describes image j (the diagonal always does). Each text's
 * target is spread evenly over the images it describes, and each image's over the texts that
 * describe it; the loss is the mean of the two cross-entropies. With the identity as `matches` it
 * is `contrastiveLoss`. Without it, two pairs of the same kind in a batch (two red circles
 * captioned "red circle") would each be pushed away from the other's caption, which no model can do.
 */
export function multiPositiveContrastiveLoss(logitsPerText: tf.Tensor, matches: tf.Tensor): tf.Scalar {
  const [n, m] = logitsPerText.shape;
  if (logitsPerText.rank !== 2 || n !== m || n === 0) {
    throw new Error(
      `multiPositiveContrastiveLoss: expected square logits [N, N], got [${logitsPerText.shape.join(', ')}]`,
    );
  }
  if (!tf.util.arraysEqual(matches.shape, logitsPerText.shape)) {
    throw new Error(
      `multiPositiveContrastiveLoss: matches must have the logits' shape [${n}, ${n}], got [${matches.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const positives = tf.maximum(tf.cast(matches, 'float32'), tf.eye(n as number)); // [N, N], diagonal set
    const textLoss = softCrossEntropy(logitsPerText, positives);
    const imageLoss = softCrossEntropy(tf.transpose(logitsPerText), tf.transpose(positives));
    return tf.div(tf.add(textLoss, imageLoss), 2) as tf.Scalar;
  });
}

/** Mean over rows of -sum_j target[row, j] log softmax(logits)[row, j], targets = each row of `positives` normalised. */
function softCrossEntropy(logits: tf.Tensor, positives: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const targets = tf.div(positives, tf.sum(positives, -1, true)); // [N, N], rows sum to 1
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits, -1), targets), -1); // [N]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
