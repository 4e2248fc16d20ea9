"""The dataset pipeline: dreamed training sets written to disk on a Dask cluster, checked and read back.

:mod:`~dreaming.dataset.pipeline` (planning, resuming, fan-out on the client), :mod:`~dreaming.dataset.writer` (the
workers' side), :mod:`~dreaming.dataset.formats` (file encodings), :mod:`~dreaming.dataset.manifest` (checksums,
verification), :mod:`~dreaming.dataset.coco` (COCO annotations), :mod:`~dreaming.dataset.reader` (``DreamDataset``
for PyTorch) and :mod:`~dreaming.dataset.report` (tables of dreamed datasets).
"""
