/*
 * DiT glue ops (linear_rows, dit_patch_embed, dit_final_layer), avx2 variant: the loops of dit_ops_body.h,
 * compiled with the avx2 flags (cmake/SeerKernel.cmake). Bit-identical to the ref.
 * Tested against float64 loops, every variant and thread count bit for bit: DitOpsTest (Java).
 */
#define DIT_VARIANT avx2
#include "dit_ops_body.h"
