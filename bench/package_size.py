"""What our code adds to each Lambda's deployment package, before and after the flow language
moved out of `chalicelib/`.

Chalice packages `app.py` and the whole `chalicelib/` folder beside the dependencies; nothing
at run time imports the flow language, which the CLI and the tests use. Measured as Chalice
builds it: a deflated zip of those files (no `__pycache__`). The dependencies are the same
either way, so they are left out.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from devkit.local_aws import ROOT


def _files(*roots: Path) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        found += [
            p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
        ]
    return found


def _zipped(files: list[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(ROOT).as_posix())
    return len(buffer.getvalue())


def measure() -> dict[str, Any]:
    packaged = _files(ROOT / "app.py", ROOT / "chalicelib")
    flowlang = _files(ROOT / "flowlang")
    return {
        "after_bytes": _zipped(packaged),
        "after_files": len(packaged),
        "before_bytes": _zipped(packaged + flowlang),
        "before_files": len(packaged) + len(flowlang),
        "flowlang_lines": sum(len(p.read_text().splitlines()) for p in flowlang),
    }
