"""The renderer runs without loading any simulation or learning module (checked at run time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_render_tables import write_factory_table

FORBIDDEN = (
    "simpy",
    "gymnasium",
    "stable_baselines3",
    "sb3_contrib",
    "torch",
    "domains.factory.simulation",
    "domains.factory.baselines",
    "domains.env",
    "domains.domain",
    "domains.recorder",
    "domains.policies",
    "domains.registry",
)


def test_rendering_loads_no_simulation_module(tmp_path: Path) -> None:
    table = write_factory_table(tmp_path / "factory.parquet")
    code = (
        "import sys\n"
        "from stages.cli import main\n"
        f"argv = ['render', {str(table)!r}, '--to', '3', '--fps', '5', '--scale', '0.25',"
        f" '--preset', 'ultrafast', '--out', {str(tmp_path / 'm.mp4')!r}]\n"
        "try:\n    main(argv)\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"main(['render', {str(table)!r}, '--still', '1', '--out', {str(tmp_path / 's.png')!r}])\n"
        f"loaded = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print('LOADED', loaded, 'painter' if 'domains.factory.painter' in sys.modules else '')\n"
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED [] painter" in result.stdout, result.stdout + result.stderr
