"""Named points where a crash-safety test kills the build with SIGKILL.

`DONGNE_FAILPOINT=<name>[:<n>]` kills the process (and its process group, when it leads
one: dbt runs as a child) the n-th time (default: the first) the point is reached. With
the variable unset, as in every normal run, `reach` does nothing.
"""

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def reach(name: str) -> None:
    """Kill the process here if DONGNE_FAILPOINT names this point (and this is the n-th time)."""
    spec = os.environ.get("DONGNE_FAILPOINT", "")
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] != int(nth or 1):
        return
    if os.getpgid(0) == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
