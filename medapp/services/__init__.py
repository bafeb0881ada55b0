"""Use cases the GUI and jobs call. Plain Python in, plain dataclasses out; no Qt."""
