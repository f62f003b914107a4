"""ghostmech.dynamics: fixed points, slow points and ghosts of any flow ẋ = f(x).

* :func:`find_points` - speed-minimum finder (q = ½‖f‖²), classification, ghost ε.
* :func:`ghost_epsilon`, :func:`dwell_time`, :func:`passage_time` - docs/model.md §1.
* :func:`flow_1d`, :func:`flow_2d` - low-rank latent flows on a grid.
* :func:`rnn_field`, :func:`latent_field`, :func:`from_network`, :class:`MapField`.
* :func:`bottleneck` - is a speed minimum a ghost of the task? measured passages (theory §4).
* :func:`track`, :func:`analyze_snapshots` - points and events through training.
"""

from ghostmech.dynamics.analysis import Analysis, analyze_snapshots, as_field
from ghostmech.dynamics.bottleneck import (
    CONTRAST_MIN,
    PASSAGE_KINDS,
    REGION_FACTOR,
    SHARE_MIN,
    Bottleneck,
    bottleneck,
    passage_kind,
    step_trajectories,
)
from ghostmech.dynamics.classify import FIXED_KINDS, KINDS, SYSTEMS, classify
from ghostmech.dynamics.fields import (
    LatentField,
    MapField,
    RNNField,
    from_network,
    latent_field,
    rnn_field,
    sample_starts,
)
from ghostmech.dynamics.finder import find_points
from ghostmech.dynamics.flow1d import Flow1D, Point1D, flow_1d, latent_range, scalar_flow
from ghostmech.dynamics.flow2d import Flow2D, flow_2d
from ghostmech.dynamics.ghost import GhostInfo, Passage, dwell_time, ghost_epsilon, passage_time
from ghostmech.dynamics.points import Points, as_map
from ghostmech.dynamics.speed import speed, speed_grad
from ghostmech.dynamics.tracking import EVENT_KINDS, Event, Tracking, detect_events, track

__all__ = [
    "Bottleneck",
    "bottleneck",
    "passage_kind",
    "step_trajectories",
    "CONTRAST_MIN",
    "PASSAGE_KINDS",
    "REGION_FACTOR",
    "SHARE_MIN",
    "Analysis",
    "analyze_snapshots",
    "as_field",
    "FIXED_KINDS",
    "classify",
    "KINDS",
    "SYSTEMS",
    "LatentField",
    "MapField",
    "RNNField",
    "from_network",
    "latent_field",
    "rnn_field",
    "sample_starts",
    "find_points",
    "Flow1D",
    "Point1D",
    "flow_1d",
    "latent_range",
    "scalar_flow",
    "Flow2D",
    "flow_2d",
    "GhostInfo",
    "Passage",
    "dwell_time",
    "ghost_epsilon",
    "passage_time",
    "Points",
    "as_map",
    "speed",
    "speed_grad",
    "EVENT_KINDS",
    "Event",
    "Tracking",
    "detect_events",
    "track",
]
