"""DAVIS semi-supervised evaluation (J region similarity, F boundary accuracy), identical to the official toolkit
except that the objects are the ids present in the first annotation, not ``1..max`` (:mod:`.benchmark`)."""

from segmenters.evaluation.benchmark import (
    GLOBAL_COLUMNS,
    PER_SEQUENCE_COLUMNS,
    Evaluation,
    ObjectScores,
    SequenceScores,
    evaluate,
    evaluate_sequence,
    has_ground_truth,
    missing_results,
    read_result,
    score_frame,
    scored_frames,
)
from segmenters.evaluation.metrics import (
    BOUNDARY_TOLERANCE,
    Statistics,
    boundary_f,
    boundary_map,
    jaccard,
    statistics,
    tolerance_radius,
)
from segmenters.evaluation.report import format_report, write_csvs

__all__ = [
    "BOUNDARY_TOLERANCE",
    "GLOBAL_COLUMNS",
    "PER_SEQUENCE_COLUMNS",
    "Evaluation",
    "ObjectScores",
    "SequenceScores",
    "Statistics",
    "boundary_f",
    "boundary_map",
    "evaluate",
    "evaluate_sequence",
    "format_report",
    "has_ground_truth",
    "jaccard",
    "missing_results",
    "read_result",
    "score_frame",
    "scored_frames",
    "statistics",
    "tolerance_radius",
    "write_csvs",
]
