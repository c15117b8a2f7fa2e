// Writes tiny U-Nets and their outputs for check_parity.py, which runs the PyTorch twin on them.
// Uses the BUILT packages (run `pnpm build` at the root first if packages/*/dist are stale).
//   node bench/twin/export-parity-case.mjs [OUT_DIR]   (default: $TMPDIR/dalle2js-twin-parity)
// For each case NAME it writes NAME.weights.safetensors (saveModuleWeights: PyTorch names and
// layouts) and NAME.case.safetensors (inputs NHWC, outputs NHWC; metadata.config is the UNetConfig).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safetensorsFromTensors, saveModuleWeights, TorchGenerator } from '@dalle2js/core';
import { UNet } from '@dalle2js/unet';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

const CASES = {
  // Every block kind: two levels with attention (self only, self + cross), text tokens with padding,
  // a ResNet shortcut at each width change, odd context and embedding sizes.
  text: {
    config: {
      dim: 16,
      dimMults: [1, 2, 3],
      numResnetBlocks: 2,
      imageEmbedDim: 10,
      numImageTokens: 3,
      contextDim: 20,
      textEmbedDim: 12,
      maxTextLen: 6,
      selfAttention: [false, true, true],
      crossAttention: [false, false, true],
      midAttention: true,
      attentionHeadDim: 8,
      normGroups: 4,
    },
    batch: 3,
    size: 16,
    textLen: 4,
  },
  // The cascade upsampler's input path and the learned-variance output, no text.
  lowres: {
    config: {
      dim: 8,
      dimMults: [1, 2],
      numResnetBlocks: 1,
      imageEmbedDim: 6,
      selfAttention: [false, true],
      crossAttention: [true, false],
      midAttention: false,
      attentionHeadDim: 4,
      normGroups: 2,
      learnedVariance: true,
      lowresCond: true,
    },
    batch: 2,
    size: 8,
    lowresFactor: 4,
  },
};
const GUIDANCE = 3;

/** Replaces every parameter (zero-initialised ones and norms included) by seeded random values. */
function randomizeParameters(unet, rng) {
  for (const [name, { variable }] of unet.namedParameters()) {
    tf.tidy(() => {
      const noise = rng.randnTensor(variable.shape);
      const fanIn = variable.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const isNormWeight = variable.rank === 1 && /norm[^.]*\.weight$/.test(name);
      const value = isNormWeight
        ? tf.add(1, tf.mul(noise, 0.2))
        : tf.mul(noise, variable.rank === 1 ? 0.2 : 1 / Math.sqrt(fanIn));
      variable.assign(value);
    });
  }
}

async function exportCase(name, spec, outDir) {
  const rng = new TorchGenerator(1234);
  const unet = new UNet(spec.config, { rng });
  randomizeParameters(unet, rng);
  const { batch: b, size } = spec;
  const { channels, imageEmbedDim, textEmbedDim } = unet.config;
  const tensors = new Map();
  tensors.set('x', rng.randnTensor([b, size, size, channels])); // NHWC
  tensors.set('timesteps', tf.tensor1d(Array.from({ length: b }, (_, i) => 3 + 411.5 * i)));
  tensors.set('image_embed', rng.randnTensor([b, imageEmbedDim]));
  if (spec.textLen !== undefined) {
    tensors.set('text_encodings', rng.randnTensor([b, spec.textLen, textEmbedDim]));
    // Row i has its last i tokens padded.
    const mask = Array.from({ length: b }, (_, i) =>
      Array.from({ length: spec.textLen }, (_, j) => (j < spec.textLen - i ? 1 : 0)),
    );
    tensors.set('text_mask', tf.tensor2d(mask));
  }
  if (spec.lowresFactor !== undefined) {
    const low = size / spec.lowresFactor;
    tensors.set('lowres_image', rng.randnTensor([b, low, low, channels]));
  }
  const cond = {
    imageEmbed: tensors.get('image_embed'),
    textEncodings: tensors.get('text_encodings'),
    textMask: tensors.get('text_mask'),
    lowresImage: tensors.get('lowres_image'),
  };
  const t = tensors.get('timesteps');
  tensors.set('out', unet.apply(tensors.get('x'), t, cond));
  tensors.set('out_guided', unet.forwardWithGuidance(tensors.get('x'), t, cond, GUIDANCE));
  if (cond.textEncodings !== undefined) {
    tensors.set('out_no_text', unet.apply(tensors.get('x'), t, { imageEmbed: cond.imageEmbed }));
  }

  const metadata = {
    config: JSON.stringify(unet.config),
    guidance: String(GUIDANCE),
    parameters: String(unet.numParameters()),
  };
  await saveModuleWeights(unet, join(outDir, `${name}.weights.safetensors`));
  writeFileSync(
    join(outDir, `${name}.case.safetensors`),
    await safetensorsFromTensors(tensors, { metadata }),
  );
  console.log(
    `${name}: ${unet.numParameters()} parameters, outputs ${[...tensors.keys()].filter((k) => k.startsWith('out')).join(', ')}`,
  );
  tf.dispose([...tensors.values()]);
  unet.dispose();
}

await tf.setBackend('cpu');
const outDir = process.argv[2] ?? join(tmpdir(), 'dalle2js-twin-parity');
mkdirSync(outDir, { recursive: true });
for (const [name, spec] of Object.entries(CASES)) await exportCase(name, spec, outDir);
console.log(`wrote ${outDir}`);
