import { levelChannels, resolveUNetConfig, type UNetConfigInput, usesContext } from './unet-config.js';

const conv = (inC: number, outC: number, k: number) => k * k * inC * outC + outC;
const linear = (inF: number, outF: number) => inF * outF + outF;
const norm = (c: number) => 2 * c;
const attention = (c: number, kvDim: number) => 2 * linear(c, c) + 2 * linear(kvDim, c);

/**
 * The number of trainable scalars of `new UNet(config)`, from the config alone (a check on the
 * module, which it must equal). Skip channels are read off the architecture: up level i's block j
 * concatenates down level i's block j output (width w_i) for j < R, and for j = R the output that
 * came before that level: the previous level's downsample (w_{i-1}), or conv_in (w_0) at level 0.
 */
export function countUNetParameters(input: UNetConfigInput = {}): number {
  const config = resolveUNetConfig(input);
  const { dim, channels, numResnetBlocks: R, imageEmbedDim: E, contextDim, textEmbedDim } = config;
  const w = levelChannels(config);
  const L = w.length;
  const width = (i: number) => w[i] as number;
  const T = 4 * dim;
  const resnet = (inC: number, outC: number) =>
    norm(inC) +
    conv(inC, outC, 3) +
    linear(T, 2 * outC) +
    norm(outC) +
    conv(outC, outC, 3) +
    (inC === outC ? 0 : conv(inC, outC, 1));
  const attentionBlock = (c: number, self: boolean, cross: boolean) =>
    (self ? norm(c) + attention(c, c) : 0) + (cross ? norm(c) + attention(c, contextDim) : 0);
  const levelAttention = (i: number) =>
    attentionBlock(width(i), config.selfAttention[i] as boolean, config.crossAttention[i] as boolean);

  let total = linear(dim, T) + linear(T, T); // time_embedding
  total += E + linear(E, T); // null_image_embed, image_to_time
  if (usesContext(config)) {
    total += linear(E, config.numImageTokens * contextDim);
    if (textEmbedDim !== null)
      total += linear(textEmbedDim, contextDim) + norm(contextDim) + config.maxTextLen * contextDim;
  }
  if (config.imageEmbedGrid !== null) total += linear(E, config.imageEmbedGrid ** 2 * width(L - 1)); // image_to_grid
  total += conv(config.lowresCond ? 2 * channels : channels, width(0), 3); // conv_in

  for (let i = 0; i < L; i++) {
    total += resnet(width(Math.max(i - 1, 0)), width(i)) + (R - 1) * resnet(width(i), width(i));
    total += R * levelAttention(i);
    if (i < L - 1) total += conv(width(i), width(i), 3);
  }
  total +=
    2 * resnet(width(L - 1), width(L - 1)) +
    attentionBlock(width(L - 1), config.midAttention, config.midAttention);
  for (let i = L - 1; i >= 0; i--) {
    const previous = width(Math.min(i + 1, L - 1));
    for (let j = 0; j <= R; j++) {
      const skip = j < R ? width(i) : width(Math.max(i - 1, 0));
      total += resnet((j === 0 ? previous : width(i)) + skip, width(i));
    }
    total += (R + 1) * levelAttention(i);
    if (i > 0) total += conv(width(i), width(i), 3);
  }
  total += norm(width(0)) + conv(width(0), config.learnedVariance ? 2 * channels : channels, 3); // conv_norm_out, conv_out
  return total;
}
