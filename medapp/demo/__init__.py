"""Generated demo and benchmark data (``medapp demo --scale school|district``).

``load_demo(conn, scale, seed)`` fills an empty, migrated database inside the caller's
transaction and returns the row count of every table. Modules: :mod:`~medapp.demo.names`
(hand-written name lists), :mod:`~medapp.demo.formulary` (school CSV + FDA file),
:mod:`~medapp.demo.schoolcal` (holidays, school hours), :mod:`~medapp.demo.sigs` (every
frequency text used), :mod:`~medapp.demo.catalog` (order templates), :mod:`~medapp.demo.people`,
:mod:`~medapp.demo.prescriptions`, :mod:`~medapp.demo.inventory`, :mod:`~medapp.demo.logs`,
:mod:`~medapp.demo.incidents`, :mod:`~medapp.demo.copyio` (COPY helper).
"""

from medapp.demo.base import DemoError
from medapp.demo.loader import TABLES, load_demo
from medapp.demo.scales import SCALES, Scale

__all__ = ["SCALES", "TABLES", "DemoError", "Scale", "load_demo"]
