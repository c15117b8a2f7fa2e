/**
 * A linear layer as one kernel: a b, plus bias [out] and residual [rows, out] where given; inputs
 * a [rows, in] and b [in, out], all float32. Registered for webgpu only (our tiled GEMM adds the
 * bias and the residual as it stores): through it, with its gradient written out, a layer runs a
 * handful of tfjs kernels where \`tf.fused.matMul\` runs about a dozen (reshapes to 3-d and back,
 * and their gradients), each costing the CPU microseconds.
 */
export const LINEAR_KERNEL = 'Dalle2jsLinear';
