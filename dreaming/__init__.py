"""Lucid Data Dreaming.

* :mod:`dreaming.synthesis`: the synthesis core (one annotated frame → dreamed frame pairs);
* :mod:`dreaming.dataset`: the dataset pipeline (Dask, writer, formats, manifest, COCO, reader, report);
* the command-line front ends: :mod:`dreaming.cli` (``lucid-dream``, ``lucid-verify``; its Hydra schema in
  :mod:`dreaming.hydra_conf`), :mod:`dreaming.preview` (``lucid-preview``) and :mod:`dreaming.demo`.
"""
