"""The code's zip carries bytecode a read-only Lambda uses without compiling anything."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from devkit.package import with_bytecode


def test_the_zip_gets_bytecode_the_interpreter_uses_without_looking_at_the_source(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as packaged:
        packaged.writestr("app.py", "ANSWER = 'compiled'\n")
        packaged.writestr("lib/__init__.py", "")
        packaged.writestr("lib/data.json", "{}")
    assert with_bytecode(archive) == 2
    assert with_bytecode(archive) == 0  # packaging again adds nothing twice
    with zipfile.ZipFile(archive) as packaged:
        names = packaged.namelist()
        packaged.extractall(tmp_path / "task")
    tag = sys.implementation.cache_tag
    assert f"__pycache__/app.{tag}.pyc" in names
    assert f"lib/__pycache__/__init__.{tag}.pyc" in names
    assert len(names) == len(set(names)) == 5

    # What Lambda does: a read-only code directory, every file dated 1980. The source is
    # changed after packaging: the answer still comes from the bytecode, so nothing was
    # compiled (timestamp-checked bytecode would have been judged stale and compiled again).
    task = tmp_path / "task"
    (task / "app.py").write_text("ANSWER = 'from source'\n")
    for path in task.rglob("*"):
        os.utime(path, (315532800, 315532800))
    answered = subprocess.run(
        [sys.executable, "-S", "-c", "import app; print(app.ANSWER)"],
        cwd=task,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(task)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert answered.stdout.strip() == "compiled"
