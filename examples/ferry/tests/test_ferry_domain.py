"""The ferry's own tests: what a domain's author runs, with simreel and this package installed.

``tests/test_own_domain_package.py`` in simreel runs them too, against this folder.
"""

from __future__ import annotations

import pytest

from domains.check import CHECKS, check_domain


@pytest.mark.parametrize("weather", ["calm", "windy"])
def test_the_ferry_keeps_simreels_contract(weather: str) -> None:
    report = check_domain("ferry", {"weather": weather})
    assert report.names == CHECKS
