"""The domain core stays framework-free (docs/adr/0001-core-has-no-django.md)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import interpersonal.core

CORE = Path(interpersonal.core.__file__).parent
ROOT = CORE.parent.parent


def _ruff() -> str:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert found, "ruff must be installed (it is in requirements.lock)"
    return found


def test_lint_rule_rejects_a_django_import_in_the_core():
    snippet = "from django.db import models\n\nprint(models)\n"

    result = subprocess.run(
        [_ruff(), "check", "--no-cache", "--stdin-filename", str(CORE / "example.py"), "-"],
        input=snippet, capture_output=True, text=True, cwd=ROOT, check=False,
    )

    assert result.returncode == 1
    assert "TID251" in result.stdout
    assert "framework-free" in result.stdout


def test_the_same_import_outside_the_core_passes_the_rule():
    snippet = "from django.db import models\n\nprint(models)\n"

    result = subprocess.run(
        [_ruff(), "check", "--no-cache", "--stdin-filename", str(ROOT / "interpersonal" / "web" / "example.py"), "-"],
        input=snippet, capture_output=True, text=True, cwd=ROOT, check=False,
    )

    assert "TID251" not in result.stdout


def test_no_module_in_the_core_imports_django():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []


def test_importing_the_core_does_not_load_django():
    code = "import sys, interpersonal.core.measures as m; m.catalogue(); import interpersonal.cli; print('django' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
