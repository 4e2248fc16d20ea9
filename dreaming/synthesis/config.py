"""Configuration of the dream, as plain dataclasses (registered as Hydra structured configs by the pipeline).

Defaults follow the authors' released MATLAB generator (Khoreva et al., IJCV 2019). Ranges are ``(low, high)``
pairs sampled uniformly. Fractions of an object are relative to its bounding box; fractions of the frame to the
frame size.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dreaming import checks
from foundation.errors import InputError

INPAINT_METHODS = ("patchmatch", "telea")
BLEND_METHODS = ("alpha", "poisson")
INTERPOLATIONS = ("linear", "cubic", "lanczos")
"""Resampling of frame pixels (``cv2.INTER_LINEAR``, ``INTER_CUBIC``, ``INTER_LANCZOS4``)."""
MOTION_TYPES = ("camera+objects", "objects", "camera")
OBJECT_MOTION_KINDS = ("deform", "shift", "both")


@dataclass
class InpaintConfig:
    """Step 1: remove every object and fill the hole, once per source frame."""

    method: str = "patchmatch"
    """One of :data:`INPAINT_METHODS`: ``patchmatch`` (exemplar-based, as in the paper) or ``telea`` (OpenCV; fast
    but blurry — tests only)."""
    dilation_radius: int = 7
    """The label mask is dilated by a disk of this radius (px) before inpainting, to remove halos."""
    patch_size: int = 5
    """PatchMatch patch size (px)."""


@dataclass
class SubsetConfig:
    """Step 2: which objects are manipulated; the others are kept in place or erased."""

    erase_p: float = 0.5
    """Probability that an object outside the manipulated subset is erased (inpainted away) instead of kept."""
    manipulate: bool = True
    """Cut out, deform and re-place a random non-empty subset of the objects; false: every object stays in place."""


@dataclass
class DeformConfig:
    """Thin-plate-spline deformation: control points on the object boundary, each shifted at random."""

    points: int = 5
    shift: float = 0.05
    """Maximum shift of a control point, as a fraction of the object's box width (x) and height (y)."""


@dataclass
class PlacementConfig:
    """Step 4: where a manipulated object lands in frame a."""

    scale: tuple[float, float] = (0.85, 1.15)


@dataclass
class BlendConfig:
    """Step 5: how object layers are composited onto the background."""

    method: str = "poisson"
    """``poisson`` (seamless cloning, as in the paper) or ``alpha`` (feathered alpha blend, fast)."""
    feather_sigma: float = 1.0
    """Gaussian blur (px) of each layer's alpha for the ``alpha`` method; 0 disables feathering."""


@dataclass
class IlluminationConfig:
    """Step 6: in HSV, S and V each become ``a * x**b + c`` (values in [0, 1], clipped)."""

    p: float = 0.5
    """Probability, applied independently to the background layer and to each composed frame."""
    a: tuple[float, float] = (0.97, 1.03)
    b: tuple[float, float] = (0.8, 1.2)
    c: tuple[float, float] = (-0.05, 0.05)


@dataclass
class ViewConfig:
    """Step 7: standard augmentation of frame a (rotation with maximal-area crop, horizontal flip).

    It is part of every layer's transform, so flows stay exact.
    """

    rotation: float = 30.0
    """Maximum absolute rotation (degrees); the largest axis-aligned crop of the frame's aspect is resized back."""
    rotation_p: float = 0.5
    flip_p: float = 0.5


@dataclass
class PrevMaskConfig:
    """Step 8: the simulated previous-frame mask given to the tracker as guidance."""

    deform: DeformConfig = field(default_factory=DeformConfig)
    dilation_radius: int = 5


@dataclass
class CameraConfig:
    """Step 9: camera motion from frame a to b, one affine transform (symmetric padding, no empty borders)."""

    rotation: float = 3.0
    """Maximum absolute rotation (degrees)."""
    scale: tuple[float, float] = (0.95, 1.05)
    """Range of the x and y scale factors (drawn independently)."""
    shift: float = 0.05
    """Maximum shift as a fraction of the frame width (x) and height (y)."""


@dataclass
class ObjectMotionConfig:
    """Step 9: motion of each object from frame a to b: a TPS deformation and/or a shift."""

    deform: DeformConfig = field(default_factory=DeformConfig)
    shift: float = 0.05
    """Maximum shift as a fraction of the object's box width (x) and height (y)."""
    kinds: tuple[str, ...] = ("deform", "shift", "both")
    """Drawn uniformly per object, among :data:`OBJECT_MOTION_KINDS`."""


@dataclass
class DreamConfig:
    """Everything that shapes a dream. ``paper`` is the default; see :func:`fast` for the fast preset."""

    inpaint: InpaintConfig = field(default_factory=InpaintConfig)
    subset: SubsetConfig = field(default_factory=SubsetConfig)
    deform: DeformConfig = field(default_factory=DeformConfig)
    placement: PlacementConfig = field(default_factory=PlacementConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    illumination: IlluminationConfig = field(default_factory=IlluminationConfig)
    view: ViewConfig = field(default_factory=ViewConfig)
    prev_mask: PrevMaskConfig = field(default_factory=PrevMaskConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    object_motion: ObjectMotionConfig = field(default_factory=ObjectMotionConfig)
    motion_types: tuple[str, ...] = ("camera+objects", "objects", "camera")
    """Frame-b motion types, drawn uniformly, among :data:`MOTION_TYPES`."""
    interpolation: str = "linear"
    """Resampling of frame pixels, one of :data:`INTERPOLATIONS`."""


def _check_deform(cfg: DeformConfig, where: str) -> None:
    checks.at_least(cfg.points, 0, f"{where}.points", integer=True)
    checks.at_least(cfg.shift, 0, f"{where}.shift")


def check_config(cfg: DreamConfig, where: str = "dream") -> None:
    """Check every setting of ``cfg`` (types, ranges, names) before any work; run once per dream.

    Raises:
        InputError: naming the first bad setting, e.g. ``dream.illumination.p: 7.0 (expected a probability in
            [0, 1])``.
    """
    inpaint = cfg.inpaint
    checks.choice(inpaint.method, INPAINT_METHODS, f"{where}.inpaint.method", "inpainting method")
    checks.at_least(inpaint.dilation_radius, 0, f"{where}.inpaint.dilation_radius", integer=True)
    checks.at_least(inpaint.patch_size, 1, f"{where}.inpaint.patch_size", integer=True)
    checks.probability(cfg.subset.erase_p, f"{where}.subset.erase_p")
    if not isinstance(cfg.subset.manipulate, bool):
        raise InputError(f"{where}.subset.manipulate", f"{cfg.subset.manipulate!r}", "true or false")
    _check_deform(cfg.deform, f"{where}.deform")
    checks.interval(cfg.placement.scale, f"{where}.placement.scale", positive=True)
    checks.choice(cfg.blend.method, BLEND_METHODS, f"{where}.blend.method", "blending method")
    checks.at_least(cfg.blend.feather_sigma, 0, f"{where}.blend.feather_sigma")
    light = cfg.illumination
    checks.probability(light.p, f"{where}.illumination.p")
    checks.interval(light.a, f"{where}.illumination.a")
    checks.interval(light.b, f"{where}.illumination.b", positive=True)  # an exponent: x ** b
    checks.interval(light.c, f"{where}.illumination.c")
    checks.within(cfg.view.rotation, 0, 180, f"{where}.view.rotation")
    checks.probability(cfg.view.rotation_p, f"{where}.view.rotation_p")
    checks.probability(cfg.view.flip_p, f"{where}.view.flip_p")
    _check_deform(cfg.prev_mask.deform, f"{where}.prev_mask.deform")
    checks.at_least(cfg.prev_mask.dilation_radius, 0, f"{where}.prev_mask.dilation_radius", integer=True)
    checks.within(cfg.camera.rotation, 0, 180, f"{where}.camera.rotation")
    checks.interval(cfg.camera.scale, f"{where}.camera.scale", positive=True)
    checks.at_least(cfg.camera.shift, 0, f"{where}.camera.shift")
    motion = cfg.object_motion
    _check_deform(motion.deform, f"{where}.object_motion.deform")
    checks.at_least(motion.shift, 0, f"{where}.object_motion.shift")
    checks.choices(motion.kinds, OBJECT_MOTION_KINDS, f"{where}.object_motion.kinds", "object motion")
    checks.choices(cfg.motion_types, MOTION_TYPES, f"{where}.motion_types", "motion type")
    checks.choice(cfg.interpolation, INTERPOLATIONS, f"{where}.interpolation", "interpolation")


def paper() -> DreamConfig:
    """The authors' setting: PatchMatch inpainting and Poisson blending."""
    return DreamConfig()


def fast() -> DreamConfig:
    """PatchMatch inpainting (paid once per source frame) and a feathered alpha blend instead of Poisson."""
    cfg = DreamConfig()
    return replace(cfg, blend=replace(cfg.blend, method="alpha"))


PRESETS = {"paper": paper, "fast": fast}

COMPONENTS = ("move_objects", "deform", "camera", "illumination", "prev_mask")
"""Dreaming components that :func:`without` can switch off (for ablations)."""


def without(cfg: DreamConfig, components: tuple[str, ...] | list[str]) -> DreamConfig:
    """``cfg`` with the named components switched off:

    * ``move_objects``: no object is cut out, moved or erased, and none moves on its own from a to b, so the
      inpainted background is never seen (only the view and the camera move);
    * ``deform``: no thin-plate-spline deformation of the objects (placement and motion a → b keep their shifts);
    * ``camera``: no camera motion from a to b;
    * ``illumination``: no HSV illumination change;
    * ``prev_mask``: the previous-frame mask is the object's own mask, not a deformed and dilated one.
    """
    unknown = sorted(set(components) - set(COMPONENTS))
    if unknown:
        raise InputError("components", f"unknown dreaming component {unknown[0]!r}", f"some of {COMPONENTS}")
    motion_types = cfg.motion_types
    if "move_objects" in components:
        cfg = replace(cfg, subset=replace(cfg.subset, manipulate=False, erase_p=0.0))
        motion_types = tuple(t for t in motion_types if t == "camera")
    if "camera" in components:
        motion_types = tuple(t.replace("camera+", "") for t in motion_types if t != "camera")
    if not motion_types:
        raise InputError("components", f"without {sorted(components)} nothing moves from a to b", "some motion left")
    cfg = replace(cfg, motion_types=motion_types)
    if "deform" in components:
        motion = cfg.object_motion
        cfg = replace(
            cfg,
            deform=replace(cfg.deform, shift=0.0),
            object_motion=replace(motion, kinds=("shift",), deform=replace(motion.deform, shift=0.0)),
        )
    if "illumination" in components:
        cfg = replace(cfg, illumination=replace(cfg.illumination, p=0.0))
    if "prev_mask" in components:
        cfg = replace(
            cfg, prev_mask=replace(cfg.prev_mask, deform=replace(cfg.prev_mask.deform, shift=0.0), dilation_radius=0)
        )
    return cfg


def preset(name: str) -> DreamConfig:
    """A named preset (``paper`` or ``fast``)."""
    if name not in PRESETS:
        raise InputError("preset", f"unknown preset {name!r}", f"one of {sorted(PRESETS)}")
    return PRESETS[name]()
