"""The garbage collector is paused while a plan is built, and is on again afterwards (as it was)."""

from __future__ import annotations

import gc

import pytest

from reconciler.core.collector import collector_paused


def test_paused_inside_and_on_again_after_even_when_the_body_raises() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("stop")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_and_nesting_keeps_it_paused() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not switch it on under the outer one
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
