import torch.nn.functional as F
def use_fused_attn(experimental=False):
    return hasattr(F, "scaled_dot_product_attention")
