"""Activation checkpointing: every decoder layer, none, or only as many as memory needs.

Checkpointing a layer keeps only its input for backward and recomputes the rest, about a
third more compute for that layer. Checkpointing all of them was the default on a GPU;
measured on an H200 (8B LoRA, decision 0008) it cost the speed that turning it off gave
back (1.46× vs 1.69× the plain Trainer) while the memory saved was often not needed.
`auto` checkpoints the fewest layers that fit: the app works the count out from the free
memory and the estimator's per-layer cost (src/models/vram.ts, `layersToCheckpoint`) and
passes it as `checkpoint_layers`. The first layers are the ones checkpointed: their
activations would be held the longest.
"""

from __future__ import annotations


def decoder_layers(model) -> list:
    """The model's repeated decoder blocks, in order (transformers' GradientCheckpointingLayer)."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    return [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]


def layers_to_checkpoint(checkpointing: str, checkpoint_layers: int | None, layers: int, cuda: bool) -> int:
    """How many decoder layers to checkpoint: all, none, or auto's count (the app's, else all on a GPU, none on a CPU)."""
    if checkpointing == "none":
        return 0
    if checkpointing == "all":
        return layers
    if checkpoint_layers is not None:
        return max(0, min(layers, checkpoint_layers))
    return layers if cuda else 0


def apply(model, n: int) -> int:
    """Checkpoint the first `n` decoder layers (the others keep their activations); returns how many."""
    layers = decoder_layers(model)
    n = max(0, min(n, len(layers)))
    if n == 0:
        return 0
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    for i, layer in enumerate(layers):
        layer.gradient_checkpointing = i < n
    # The inputs of a checkpointed first layer must carry a gradient, or frozen embeddings cut the graph.
    model.enable_input_require_grads()
    return n
