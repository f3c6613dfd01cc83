/*
 * DiT glue ops (linear_rows, dit_patch_embed, dit_final_layer), ref variant: the loops of dit_ops_body.h compiled
 * without SIMD flags: the specification.
 * Tested against float64 loops, every variant and thread count bit for bit: DitOpsTest (Java).
 */
#define DIT_VARIANT ref
#include "dit_ops_body.h"
