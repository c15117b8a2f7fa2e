import * as tf from '@tensorflow/tfjs-core';
import { median } from './measure.js';

/**
 * The CPU's share of a call on an asynchronous backend (webgpu): how long it takes to return, with
 * every kernel recorded and submitted but nothing awaited, beside the whole call with its results
 * read back. Where the two are close, the GPU waits on tfjs and Dawn, and faster kernels cannot
 * help; fewer kernels can.
 */
export interface EnqueueOverhead {
  /** Median time for the call to return. */
  enqueueMs: number;
  /** Median time until its results are read back. */
  totalMs: number;
  /** Kernels tfjs ran (tf.profile), shape-only ones (Reshape, Identity) included. */
  kernels: number;
  /** Programs dispatched to the GPU (webgpu's runWebGPUProgram calls); null on other backends. */
  dispatches: number | null;
}

/** What `measureEnqueue` needs of tfjs-backend-webgpu's backend. */
interface ProgramRunner {
  runWebGPUProgram: (...args: unknown[]) => unknown;
}

/**
 * Times `enqueue` (which returns the tensors it made, unread) over `reps` calls after one warm-up,
 * each time also until its tensors are read back and disposed; counts its kernels and dispatches
 * in one more call.
 */
export async function measureEnqueue(enqueue: () => tf.Tensor[], reps: number): Promise<EnqueueOverhead> {
  const finish = async (tensors: tf.Tensor[]) => {
    await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
  };
  await finish(enqueue());
  const enqueueTimes: number[] = [];
  const totalTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const tensors = enqueue();
    enqueueTimes.push(performance.now() - start);
    await finish(tensors);
    totalTimes.push(performance.now() - start);
  }
  const { kernels, dispatches } = await countKernels(() => finish(enqueue()));
  return { enqueueMs: median(enqueueTimes), totalMs: median(totalTimes), kernels, dispatches };
}

async function countKernels(
  call: () => Promise<void>,
): Promise<{ kernels: number; dispatches: number | null }> {
  const backend = tf.backend() as unknown as Partial<ProgramRunner>;
  const run = backend.runWebGPUProgram;
  const ownProperty = Object.hasOwn(backend, 'runWebGPUProgram');
  let dispatches = 0;
  if (run) {
    backend.runWebGPUProgram = (...args: unknown[]) => {
      dispatches++;
      return run.apply(backend, args);
    };
  }
  try {
    const profile = await tf.profile(call);
    return { kernels: profile.kernels.length, dispatches: run ? dispatches : null };
  } finally {
    if (ownProperty) backend.runWebGPUProgram = run;
    else delete backend.runWebGPUProgram;
  }
}
