"""`make demo` runs end to end and every call and callback ends where the script expects."""

from __future__ import annotations

from devkit.demo import main


def test_the_demo_runs_and_everything_is_as_expected(capsys) -> None:
    assert main() == 0
    output = capsys.readouterr().out
    assert "0 not as expected" in output
    # The callback table wraps with the terminal's width; its words do not.
    assert "RETRY_WAIT" in output and "CANCELLED" in output
    assert "early warning" in output and "review submitted" in output
