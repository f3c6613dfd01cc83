package dev.seer.model;

/**
 * A residual branch a cache can attach to, named by the checkpoint's own key prefix (blocks.5.attn,
 * blocks.5.mlp, ...). {@code index} is the branch's position in execution order within one network call.
 */
public record HookPoint(String name, int layer, int index) {
    @Override
    public String toString() {
        return name;
    }
}
