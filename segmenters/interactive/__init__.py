"""Interactive video object segmentation: marks on any frame, re-dreamed and propagated through the video."""
