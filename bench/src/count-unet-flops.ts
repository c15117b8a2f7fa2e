import { levelChannels, resolveUNetConfig, type UNetConfigInput } from '@dalle2js/unet';

/** Floating-point operations of one U-Net call, split by where they happen. */
export interface UNetFlops {
  /** 3x3 and 1x1 convolutions (conv_in, ResNet blocks, shortcuts, down/upsamplers, conv_out). */
  conv: number;
  /** Linear layers outside attention: time embedding, conditioning, ResNet time projections. */
  linear: number;
  /** q/k/v/out projections of self- and cross-attention. */
  attentionProjections: number;
  /** Q K^T and softmax(.) V of self- and cross-attention. */
  attentionScores: number;
  /** The sum of the above: one forward pass. */
  forward: number;
  /** 2 x forward: the input and the weight gradient each cost about one forward. */
  backward: number;
  /** forward + backward: one training step. */
  trainStep: number;
}

export interface UNetFlopsOptions {
  /** Text tokens in the cross-attention context (with `textEmbedDim`). Default 0. */
  textTokens?: number;
}

/**
 * FLOPs (a multiply-add counts 2) of `new UNet(config)` on `batch` images of `size` x `size`,
 * from the layer shapes alone, walking the architecture like `countUNetParameters`:
 * - a k x k conv from Cin to Cout channels at an H x W output: 2 H W k^2 Cin Cout per image;
 * - a linear layer from `in` to `out` features on N rows: 2 N in out;
 * - attention with T queries, S keys and C channels (any number of heads): 2 T S C for Q K^T and
 *   2 T S C for the weighted sum of V, plus the projections (2 T C^2 for q and out, 2 S kvDim C
 *   for k and v).
 * Element-wise work (norms, activations, softmax, bias adds, the optimizer) is left out: it is
 * memory-bound and small next to these. The backward pass counts as twice the forward, the usual
 * convention (the input gradient and the weight gradient each cost one forward); it is an upper
 * bound by the input gradient of conv_in, which is not needed.
 */
export function countUNetFlops(
  input: UNetConfigInput,
  batch: number,
  size: number,
  options: UNetFlopsOptions = {},
): UNetFlops {
  const config = resolveUNetConfig(input);
  const { dim, channels, numResnetBlocks: R, imageEmbedDim: E, contextDim, textEmbedDim } = config;
  const multiple = 2 ** (config.dimMults.length - 1);
  if (!Number.isInteger(size) || size <= 0 || size % multiple !== 0) {
    throw new Error(`countUNetFlops: size must be a positive multiple of ${multiple}, got ${size}`);
  }
  if (!Number.isInteger(batch) || batch <= 0) {
    throw new Error(`countUNetFlops: batch must be a positive integer, got ${batch}`);
  }
  const textTokens = options.textTokens ?? 0;
  if (textTokens > 0 && textEmbedDim === null) {
    throw new Error('countUNetFlops: textTokens needs a config with textEmbedDim');
  }
  const w = levelChannels(config);
  const L = w.length;
  const width = (i: number) => w[i] as number;
  const side = (i: number) => size / 2 ** i; // the resolution of level i
  const T = 4 * dim; // time embedding width
  const contextTokens = config.numImageTokens + textTokens;

  const flops = { conv: 0, linear: 0, attentionProjections: 0, attentionScores: 0 };
  const conv = (out: number, k: number, inC: number, outC: number) => {
    flops.conv += 2 * out * out * k * k * inC * outC;
  };
  const linear = (rows: number, inF: number, outF: number) => {
    flops.linear += 2 * rows * inF * outF;
  };
  const attention = (queries: number, keys: number, c: number, kvDim: number) => {
    flops.attentionProjections += 2 * queries * c * c * 2 + 2 * keys * kvDim * c * 2; // q, out; k, v
    flops.attentionScores += 2 * queries * keys * c * 2; // Q K^T, then the weights times V
  };
  const resnet = (s: number, inC: number, outC: number) => {
    conv(s, 3, inC, outC);
    linear(1, T, 2 * outC); // time_emb_proj
    conv(s, 3, outC, outC);
    if (inC !== outC) conv(s, 1, inC, outC);
  };
  const attentionBlock = (s: number, c: number, self: boolean, cross: boolean) => {
    if (self) attention(s * s, s * s, c, c);
    if (cross) attention(s * s, contextTokens, c, contextDim);
  };
  const levelAttention = (i: number) =>
    attentionBlock(
      side(i),
      width(i),
      config.selfAttention[i] as boolean,
      config.crossAttention[i] as boolean,
    );

  linear(1, dim, T); // time_embedding.linear_1
  linear(1, T, T); // time_embedding.linear_2
  linear(1, E, T); // cond_proj.image_to_time
  if (config.imageEmbedGrid !== null) linear(1, E, config.imageEmbedGrid ** 2 * width(L - 1)); // cond_proj.image_to_grid
  if (config.midAttention || config.crossAttention.some((flag) => flag)) {
    linear(1, E, config.numImageTokens * contextDim); // cond_proj.image_to_tokens
    if (textTokens > 0) linear(textTokens, textEmbedDim as number, contextDim); // cond_proj.text_to_context
  }
  conv(size, 3, config.lowresCond ? 2 * channels : channels, width(0)); // conv_in

  for (let i = 0; i < L; i++) {
    for (let j = 0; j < R; j++) {
      resnet(side(i), j === 0 ? width(Math.max(i - 1, 0)) : width(i), width(i));
      levelAttention(i);
    }
    if (i < L - 1) conv(side(i + 1), 3, width(i), width(i)); // stride-2 downsample
  }
  const bottom = width(L - 1);
  resnet(side(L - 1), bottom, bottom);
  attentionBlock(side(L - 1), bottom, config.midAttention, config.midAttention);
  resnet(side(L - 1), bottom, bottom);
  for (let i = L - 1; i >= 0; i--) {
    const previous = width(Math.min(i + 1, L - 1));
    for (let j = 0; j <= R; j++) {
      const skip = j < R ? width(i) : width(Math.max(i - 1, 0));
      resnet(side(i), (j === 0 ? previous : width(i)) + skip, width(i));
      levelAttention(i);
    }
    if (i > 0) conv(side(i - 1), 3, width(i), width(i)); // nearest x2, then a 3x3 conv
  }
  conv(size, 3, width(0), config.learnedVariance ? 2 * channels : channels); // conv_out

  const perImage = flops.conv + flops.linear + flops.attentionProjections + flops.attentionScores;
  const forward = batch * perImage;
  return {
    conv: batch * flops.conv,
    linear: batch * flops.linear,
    attentionProjections: batch * flops.attentionProjections,
    attentionScores: batch * flops.attentionScores,
    forward,
    backward: 2 * forward,
    trainStep: 3 * forward,
  };
}
