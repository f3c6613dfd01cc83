package dev.seer.model;

/**
 * A residual branch a cache can attach to, named by the checkpoint's own key prefix (blocks.5.attn,
 * double_blocks.3.txt_mlp, ...). {@code index} is the branch's position in execution order within one network
 * call; {@code stream} names the residual stream the branch adds to (DiT: "x"; FLUX: "img", "txt", "joint"), and
 * {@code tokens} x {@code channels} is the shape of one batch row of its output: branches with the same stream and
 * shape can be forecast together in one pass.
 */
public record HookPoint(String name, int layer, int index, String stream, long tokens, long channels) {
    public HookPoint {
        if (name == null || stream == null) {
            throw new IllegalArgumentException("a hook point needs a name and a stream, found " + name + " / " + stream);
        }
        if (layer < 0 || index < 0 || tokens < 1 || channels < 1) {
            throw new IllegalArgumentException("hook point " + name + ": layer and index >= 0, tokens and channels >= 1"
                    + " expected, found layer " + layer + ", index " + index + ", tokens " + tokens + ", channels " + channels);
        }
    }

    /** Whether the two branches add to the same stream with the same shape (one stack can hold both). */
    public boolean sameGroup(HookPoint other) {
        return stream.equals(other.stream) && tokens == other.tokens && channels == other.channels;
    }

    @Override
    public String toString() {
        return name;
    }
}
