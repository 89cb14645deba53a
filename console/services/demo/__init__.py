"""The demo NOC: services, teams, contacts, categories, on-call rotations,
escalation policies, known errors and ~200 incidents (``resources/demo/*.json``).

:mod:`.loader` reads and writes it (:func:`load_demo`, :func:`read_demo`);
:mod:`.records` reads each file's records and holds :class:`DemoDataError`;
:mod:`.reference` converts the reference data, rotations and policies;
:mod:`.incidents` the incidents and their timelines; :mod:`.reviews` the
post-incident reviews and problems made from them.
"""

from console.services.demo.loader import (
    BACKEND,
    FILES,
    DemoData,
    DemoSummary,
    demo_caller,
    demo_root,
    load_demo,
    read_demo,
)
from console.services.demo.records import DemoDataError

__all__ = [
    "BACKEND",
    "FILES",
    "DemoData",
    "DemoDataError",
    "DemoSummary",
    "demo_caller",
    "demo_root",
    "load_demo",
    "read_demo",
]
