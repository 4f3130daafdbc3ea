"""``linewatch connect check``: a good mapping passes, a bad one fails naming file, line and field
(``services.cli.main.run`` turns that ``ConfigError`` into exit code 2 with the message)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from contracts.errors import ConfigError
from services.cli.connect import app

ROOT = Path(__file__).resolve().parents[3]


def test_check_accepts_the_example_and_rejects_a_broken_copy(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["check", "--mapping", str(ROOT / "examples" / "mappings" / "line1-modbus.yaml")])
    assert good.exit_code == 0 and "line1-modbus" in good.output
    broken = tmp_path / "broken.yaml"
    text = (ROOT / "examples" / "mappings" / "line1-modbus.yaml").read_text()
    broken.write_text(text.replace("plant: ../../simulators", f"plant: {ROOT}/simulators")
                      .replace("type: float32", "type: float64", 1))
    bad = runner.invoke(app, ["check", "--mapping", str(broken)])
    assert isinstance(bad.exception, ConfigError)
    assert "broken.yaml:18: sources[0].tags[0].type" in str(bad.exception)
    missing = runner.invoke(app, ["check", "--mapping", str(tmp_path / "nope.yaml")])
    assert isinstance(missing.exception, ConfigError) and "cannot read mapping file" in str(missing.exception)
