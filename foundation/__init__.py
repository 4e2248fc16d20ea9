"""What the dreaming and the segmenters packages share, none of it specific to either.

* :mod:`foundation.errors`: :class:`~foundation.errors.InputError` and :func:`~foundation.errors.cli_entry`, the one
  wrapper of every command-line entry point (bad input: one line, exit status 2);
* :mod:`foundation.io`: reading frames and masks, writing label PNGs, atomic file and folder writes;
* :mod:`foundation.davis`: the DAVIS folder layout and :func:`~foundation.davis.select_sequences`;
* :mod:`foundation.cluster`: the Dask cluster (settings, client, worker setup); the only module importing
  ``distributed``, so import it only where a cluster is used;
* :mod:`foundation.settings`: Hydra settings to dataclasses, and the resolvers the YAML in ``conf/`` uses;
* :mod:`foundation.timing`: the one timer;
* :mod:`foundation.morphology`: structuring elements;
* :mod:`foundation.tables`: tables as Markdown and CSV text.

It imports neither ``dreaming`` nor ``segmenters``.
"""
