# A stand-in for einops, enough for BFL's flux/modules/autoencoder.py: the two rearrangements of its AttnBlock.
# Only these exact patterns are accepted; anything else raises, so a changed reference cannot be misread.


def rearrange(t, pattern, **axes):
    p = " ".join(pattern.split())
    if p == "b c h w -> b 1 (h w) c":
        b, c, h, w = t.shape
        return t.reshape(b, c, h * w).transpose(1, 2).unsqueeze(1)
    if p == "b 1 (h w) c -> b c h w":
        b, one, n, c = t.shape
        h, w = axes["h"], axes["w"]
        assert one == 1 and n == h * w and c == axes.get("c", c) and b == axes.get("b", b)
        return t.squeeze(1).transpose(1, 2).reshape(b, c, h, w)
    raise NotImplementedError("einops stand-in: pattern '" + pattern + "' is not supported")
