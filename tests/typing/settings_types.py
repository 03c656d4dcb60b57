"""Static checks of how settings read (run by mypy in ``make lint``, never imported).

``Setting`` takes its value type from its converter, so a component's settings read
typed on an instance without annotations; a default of ``None`` makes one optional.
A regression to ``Any`` fails here, where nothing at run time would notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msmcore as msm
from msmcore.settings import Converter, to_positive

if TYPE_CHECKING:
    from typing_extensions import assert_type

positive = Converter("a finite float > 0", to_positive)


class Typed(msm.Component):
    """One setting of each kind of converter."""

    dt = msm.Setting(float, default=1e-3, minimum=0.0)
    steps = msm.Setting(int, default=1)
    method = msm.Setting(str, default="euler", choices=("euler", "exact"))
    verbose = msm.Setting(bool, default=False)
    shape = msm.Setting(tuple, default=(2, 3))
    rate = msm.Setting(positive, default=1.0)
    scale = msm.Setting(to_positive, default=2.0)
    label = msm.Setting(str, default=None)
    limit = msm.Setting(positive, default=None)
    size = msm.Setting(int)

    def check(self) -> None:
        if TYPE_CHECKING:
            assert_type(self.dt, float)
            assert_type(self.steps, int)
            assert_type(self.method, str)
            assert_type(self.verbose, bool)
            assert_type(self.rate, float)
            assert_type(self.scale, float)
            assert_type(self.label, "str | None")
            assert_type(self.limit, "float | None")
            assert_type(self.size, int)
            assert_type(Typed.dt, "msm.Setting[float]")
