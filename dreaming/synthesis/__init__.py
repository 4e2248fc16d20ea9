"""The synthesis core: from one annotated frame to dreamed frame pairs with exact masks and optical flows.

:mod:`~dreaming.synthesis.scene` (objects cut out, background inpainted by :mod:`~dreaming.synthesis.inpaint`),
:mod:`~dreaming.synthesis.sampling` (the random parameters), :mod:`~dreaming.synthesis.geometry` (affine, TPS,
warps), :mod:`~dreaming.synthesis.layer_geometry` (each layer's warps from the parameters),
:mod:`~dreaming.synthesis.render` (layers → frames, masks, flows; :mod:`~dreaming.synthesis.compositing`,
:mod:`~dreaming.synthesis.photometric`), :mod:`~dreaming.synthesis.dream` (the entry points),
:mod:`~dreaming.synthesis.config` (every parameter), :mod:`~dreaming.synthesis.flow` (flow arithmetic),
:mod:`~dreaming.synthesis.viz` (pictures of dreams) and :mod:`~dreaming.synthesis.samples` (the embedded sample clip).
"""
