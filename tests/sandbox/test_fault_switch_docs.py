"""The fault-switch file shown in docs/SANDBOX.md is one the sandbox accepts, the Litmos switches included."""

from __future__ import annotations

import re

import yaml

from reconciler.sandbox.faults import Faults, faults_from_dict
from tests.support.paths import ROOT


def test_the_documented_fault_file_loads_and_names_every_switch() -> None:
    text = (ROOT / "docs" / "SANDBOX.md").read_text(encoding="utf-8")
    section = text.split("## Fault switches", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    data = yaml.safe_load(block.group(1))
    faults = faults_from_dict(data)
    assert faults.litmos_team_parents and faults.html_errors
    assert {name for name in Faults.__dataclass_fields__ if name.startswith("litmos_")} <= set(data)
