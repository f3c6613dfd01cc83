# Stand-ins that let the reference autoencoders run with only torch (1.13 or newer) and numpy installed:
#  - einops (for BFL's autoencoder.py): see einops/ here;
#  - torch.nn.functional.scaled_dot_product_attention where torch lacks it (< 2.0): the definition,
#    softmax(q k^T / sqrt(d)) v, as torch's own math backend computes it;
#  - diffusers' AutoencoderKL without installing diffusers (which needs huggingface_hub and more): the real model
#    files (autoencoder_kl.py, vae.py, unet_2d_blocks.py, resnet.py, attention_processor.py, activations.py,
#    normalization.py, upsampling.py, downsampling.py, modeling_outputs.py) are loaded from a diffusers checkout;
#    the package plumbing they import (utils, configuration_utils, loaders, modeling_utils, attention mixins,
#    embeddings and transformer classes the autoencoder never builds) is replaced by the small modules below.
import importlib.util
import inspect
import logging
import math
import os
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def install_sdpa():
    """Adds F.scaled_dot_product_attention when torch has none; returns True if it did."""
    if hasattr(F, "scaled_dot_product_attention"):
        return False

    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        assert attn_mask is None and dropout_p == 0.0 and not is_causal
        s = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
        return torch.softmax(q @ k.transpose(-2, -1) * s, dim=-1) @ v

    F.scaled_dot_product_attention = scaled_dot_product_attention
    return True


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def _package(name, path=None):
    m = _module(name)
    m.__path__ = [path] if path else []
    return m


class _Dummy:
    """A class the autoencoder never instantiates (transformer blocks, embeddings, image processors)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(type(self).__name__ + " is a stand-in and cannot be built")


def _dummies(name):
    m = _module(name)
    m.__getattr__ = lambda attr: type(attr, (_Dummy,), {})
    return m


def _version_tuple(v):
    return tuple(int(x) for x in v.split("+")[0].split("a")[0].split(".")[:3] if x.isdigit())


def is_torch_version(operation, version):
    import operator
    ops = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}
    return ops[operation](_version_tuple(torch.__version__), _version_tuple(version))


def _false(*args, **kwargs):
    return False


def _deprecate(*args, **kwargs):
    return None


def _identity_decorator(f=None, *args, **kwargs):
    return f if callable(f) else (lambda g: g)


class BaseOutput:
    """diffusers' BaseOutput is an OrderedDict dataclass; the autoencoder's outputs are only read by attribute."""

    def __getitem__(self, i):
        return list(self.__dict__.values())[i]


class _Config(types.SimpleNamespace):
    def __getitem__(self, k):
        return getattr(self, k)


def register_to_config(init):
    """Records the constructor's arguments (with defaults) as self.config before the body runs, as diffusers does."""
    sig = inspect.signature(init)

    def wrapped(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        cfg = {k: v for k, v in bound.arguments.items() if k != "self"}
        object.__setattr__(self, "config", _Config(**cfg))
        init(self, *args, **kwargs)

    return wrapped


def load_diffusers(src):
    """Imports diffusers.models.autoencoders.autoencoder_kl from the checkout's src/diffusers; returns AutoencoderKL."""
    root = os.path.join(src, "src", "diffusers") if os.path.isdir(os.path.join(src, "src")) else src
    _package("diffusers", root)
    _module("diffusers.utils", deprecate=_deprecate, logging=types.SimpleNamespace(get_logger=logging.getLogger),
            BaseOutput=BaseOutput, is_torch_xla_available=_false, is_torch_npu_available=_false,
            is_torch_version=is_torch_version, is_xformers_available=_false)
    sys.modules["diffusers.utils"].__path__ = []
    _module("diffusers.utils.torch_utils", randn_tensor=torch.randn, apply_freeu=None, is_torch_version=is_torch_version,
            maybe_allow_in_graph=_identity_decorator, maybe_adjust_dtype_for_device=lambda *a, **k: None)
    _module("diffusers.utils.import_utils", is_torch_npu_available=_false, is_torch_version=is_torch_version,
            is_xformers_available=_false, is_torch_xla_available=_false, is_torch_xla_version=_false)
    _module("diffusers.utils.accelerate_utils", apply_forward_hook=lambda f: f)
    _dummies("diffusers.image_processor")
    _module("diffusers.configuration_utils", ConfigMixin=type("ConfigMixin", (), {}), register_to_config=register_to_config)
    _package("diffusers.loaders")
    sys.modules["diffusers.loaders"].PeftAdapterMixin = type("PeftAdapterMixin", (), {})
    _module("diffusers.loaders.single_file_model", FromOriginalModelMixin=type("FromOriginalModelMixin", (), {}))
    _package("diffusers.models", os.path.join(root, "models"))
    _module("diffusers.models.modeling_utils", ModelMixin=torch.nn.Module)
    _module("diffusers.models.attention", AttentionMixin=type("AttentionMixin", (), {}))
    _dummies("diffusers.models.embeddings")
    _package("diffusers.models.transformers")
    _dummies("diffusers.models.transformers.dual_transformer_2d")
    _dummies("diffusers.models.transformers.transformer_2d")
    _package("diffusers.models.unets", os.path.join(root, "models", "unets"))
    _package("diffusers.models.autoencoders", os.path.join(root, "models", "autoencoders"))
    real = ["activations", "attention_processor", "normalization", "upsampling", "downsampling", "resnet",
            "modeling_outputs", "unets.unet_2d_blocks", "autoencoders.vae", "autoencoders.autoencoder_kl"]
    for name in real:
        full = "diffusers.models." + name
        path = os.path.join(root, "models", *name.split(".")) + ".py"
        spec = importlib.util.spec_from_file_location(full, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
    return sys.modules["diffusers.models.autoencoders.autoencoder_kl"].AutoencoderKL
