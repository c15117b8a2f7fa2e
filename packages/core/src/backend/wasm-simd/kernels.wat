;; Memory-bound kernels for the wasm backend, run on its own heap with 128-bit SIMD.
;; Every pointer and stride is a byte offset into the backend's memory; float32 data.
;; build-wasm-kernels.mjs assembles this file twice (shared and unshared memory) into
;; kernels-binary.ts. Edit here, then run `pnpm --filter @dalle2js/core build:wasm`.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Copies `rows` runs of `bytes` bytes: run r from src + r * srcStride to dst + r * dstStride.
  (func (export "copyRows")
    (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32)
    (param $rows i32) (param $bytes i32)
    (local $s i32) (local $d i32) (local $vectorEnd i32) (local $end i32)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (if (i32.ge_u (local.get $bytes) (i32.const 256))
          (then (memory.copy (local.get $dst) (local.get $src) (local.get $bytes)))
          (else
            (local.set $s (local.get $src))
            (local.set $d (local.get $dst))
            (local.set $vectorEnd
              (i32.add (local.get $src) (i32.and (local.get $bytes) (i32.const -16))))
            (local.set $end (i32.add (local.get $src) (local.get $bytes)))
            (block $vectorsDone
              (loop $vectors
                (br_if $vectorsDone (i32.ge_u (local.get $s) (local.get $vectorEnd)))
                (v128.store (local.get $d) (v128.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                (br $vectors)))
            (block $bytesDone
              (loop $tail
                (br_if $bytesDone (i32.ge_u (local.get $s) (local.get $end)))
                (i32.store8 (local.get $d) (i32.load8_u (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (br $tail)))))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; dst[j][i] = src[i][j] for a `rows` x `cols` block of 4-byte elements (both multiples of 4) whose
  ;; rows start `srcRowBytes` apart in src and `dstRowBytes` apart in dst: 4 x 4 blocks shuffled in
  ;; registers, in bands of 64 columns so that the output rows being written stay in the L1 cache.
  (func (export "transpose32")
    (param $src i32) (param $srcRowBytes i32) (param $dst i32) (param $dstRowBytes i32)
    (param $rows i32) (param $cols i32)
    (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32)
    (local $a i32) (local $b i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $j0 (i32.const 0))
    (block $bandsDone
      (loop $bands
        (br_if $bandsDone (i32.ge_u (local.get $j0) (local.get $cols)))
        (local.set $j1 (i32.add (local.get $j0) (i32.const 64)))
        (if (i32.gt_u (local.get $j1) (local.get $cols))
          (then (local.set $j1 (local.get $cols))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rowBlocks
            (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $a
              (i32.add (local.get $src)
                (i32.add (i32.mul (local.get $i) (local.get $srcRowBytes))
                  (i32.shl (local.get $j0) (i32.const 2)))))
            (local.set $b
              (i32.add (local.get $dst)
                (i32.add (i32.mul (local.get $j0) (local.get $dstRowBytes))
                  (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $j (local.get $j0))
            (block $blocksDone
              (loop $blocks
                (br_if $blocksDone (i32.ge_u (local.get $j) (local.get $j1)))
                (local.set $r0 (v128.load (local.get $a)))
                (local.set $r1 (v128.load (i32.add (local.get $a) (local.get $srcRowBytes))))
                (local.set $r2 (v128.load (i32.add (local.get $a)
                  (i32.shl (local.get $srcRowBytes) (i32.const 1)))))
                (local.set $r3 (v128.load (i32.add (local.get $a)
                  (i32.mul (local.get $srcRowBytes) (i32.const 3)))))
                ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3)
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                  (local.get $r0) (local.get $r1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                  (local.get $r0) (local.get $r1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                  (local.get $r2) (local.get $r3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                  (local.get $r2) (local.get $r3)))
                (v128.store (local.get $b)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $b) (local.get $dstRowBytes))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                    (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $b) (i32.shl (local.get $dstRowBytes) (i32.const 1)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (local.get $t1) (local.get $t3)))
                (v128.store (i32.add (local.get $b) (i32.mul (local.get $dstRowBytes) (i32.const 3)))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                    (local.get $t1) (local.get $t3)))
                (local.set $a (i32.add (local.get $a) (i32.const 16)))
                (local.set $b (i32.add (local.get $b) (i32.shl (local.get $dstRowBytes) (i32.const 2))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $blocks)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rowBlocks)))
        (local.set $j0 (local.get $j1))
        (br $bands))))

  ;; The per-channel loops below walk `pixels` rows of `channels` floats (a multiple of 4) and
  ;; keep per-channel vectors [channels] in a small buffer that stays in the L1 cache.

  ;; sums[c] = sum over pixels of x[p][c].
  (func (export "channelSums")
    (param $x i32) (param $pixels i32) (param $channels i32) (param $sums i32)
    (local $rowBytes i32) (local $end i32) (local $c i32)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (memory.fill (local.get $sums) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $rowBytes))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channel
          (v128.store (i32.add (local.get $sums) (local.get $c))
            (f32x4.add
              (v128.load (i32.add (local.get $sums) (local.get $c)))
              (v128.load (i32.add (local.get $x) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (br $pixel))))

  ;; sums[c] = sum over pixels of (x[p][c] - mean[c])^2.
  (func (export "channelSquaredDeviationSums")
    (param $x i32) (param $pixels i32) (param $channels i32) (param $mean i32) (param $sums i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (memory.fill (local.get $sums) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $rowBytes))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channel
          (local.set $d
            (f32x4.sub
              (v128.load (i32.add (local.get $x) (local.get $c)))
              (v128.load (i32.add (local.get $mean) (local.get $c)))))
          (v128.store (i32.add (local.get $sums) (local.get $c))
            (f32x4.add
              (v128.load (i32.add (local.get $sums) (local.get $c)))
              (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (br $pixel))))

  ;; sums[c] = sum over pixels of dy[p][c]; productSums[c] = sum over pixels of dy[p][c] x[p][c].
  (func (export "channelSumsWithProducts")
    (param $dy i32) (param $x i32) (param $pixels i32) (param $channels i32)
    (param $sums i32) (param $productSums i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (memory.fill (local.get $sums) (i32.const 0) (local.get $rowBytes))
    (memory.fill (local.get $productSums) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $rowBytes))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channel
          (local.set $g (v128.load (i32.add (local.get $dy) (local.get $c))))
          (v128.store (i32.add (local.get $sums) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $sums) (local.get $c))) (local.get $g)))
          (v128.store (i32.add (local.get $productSums) (local.get $c))
            (f32x4.add
              (v128.load (i32.add (local.get $productSums) (local.get $c)))
              (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $x) (local.get $c))))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (br $pixel))))

  ;; y[p][c] = x[p][c] scale[c] + shift[c].
  (func (export "channelAffine")
    (param $x i32) (param $pixels i32) (param $channels i32) (param $scale i32) (param $shift i32)
    (param $y i32)
    (local $rowBytes i32) (local $end i32) (local $c i32)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $rowBytes))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channel
          (v128.store (i32.add (local.get $y) (local.get $c))
            (f32x4.add
              (f32x4.mul
                (v128.load (i32.add (local.get $x) (local.get $c)))
                (v128.load (i32.add (local.get $scale) (local.get $c))))
              (v128.load (i32.add (local.get $shift) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (br $pixel))))

  ;; out[p][c] = dy[p][c] a[c] + x[p][c] b[c] + k[c].
  (func (export "channelAffinePair")
    (param $dy i32) (param $x i32) (param $pixels i32) (param $channels i32)
    (param $a i32) (param $b i32) (param $k i32) (param $out i32)
    (local $rowBytes i32) (local $end i32) (local $c i32)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $rowBytes))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channel
          (v128.store (i32.add (local.get $out) (local.get $c))
            (f32x4.add
              (f32x4.add
                (f32x4.mul
                  (v128.load (i32.add (local.get $dy) (local.get $c)))
                  (v128.load (i32.add (local.get $a) (local.get $c))))
                (f32x4.mul
                  (v128.load (i32.add (local.get $x) (local.get $c)))
                  (v128.load (i32.add (local.get $b) (local.get $c)))))
              (v128.load (i32.add (local.get $k) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (br $pixel)))))
