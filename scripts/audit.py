"""`make audit`: known vulnerabilities of the installed packages, from PyPI's advisory data.

Runs pip-audit (``--vulnerability-service pypi``, the project itself skipped as editable)
and reads its JSON report. pip-audit alone exits 0 with "No known vulnerabilities found"
even when it could not audit a single package (a package index that does not serve PyPI's
per-version JSON answers 404, which pip-audit reports as a skip). This script does not:

    exit 0  every installed package was audited, and every finding is accepted below
    exit 1  a finding that is not accepted, or any package that could not be audited

Accepted findings are printed each run with their reason; docs/operations.md explains
each one. Remove an entry when a fixed release is pinned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

# Advisory id (or alias) -> why the project runs with it for now.
CHROMA_SERVER = (
    "chromadb 1.5.9, no fixed release: affects the HTTP server of `chroma run`, which the "
    "default embedded mode never starts; in server mode bind it to 127.0.0.1 "
    "(docs/operations.md, Known vulnerabilities)"
)
ACCEPTED = {
    "GHSA-f4j7-r4q5-qw2c": CHROMA_SERVER,  # = PYSEC-2026-311, CVE-2026-45829
    "GHSA-2wm9-hf6c-p5cr": CHROMA_SERVER,  # = PYSEC-2026-3813, CVE-2026-45830
    "GHSA-36p7-vc44-83pf": CHROMA_SERVER,  # = PYSEC-2026-3814, CVE-2026-45833
    "GHSA-xph7-9rjv-w5fr": CHROMA_SERVER,  # = PYSEC-2026-3815, CVE-2026-45831
}


def pip_audit() -> dict[str, Any]:
    command = [
        sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
        "--vulnerability-service", "pypi", "--skip-editable",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"pip-audit failed (exit {done.returncode}):\n{done.stderr.strip()}")


def accepted_reason(vuln: dict[str, Any]) -> str | None:
    ids = [vuln["id"], *vuln.get("aliases", [])]
    return next((ACCEPTED[i] for i in ids if i in ACCEPTED), None)


def main() -> int:
    report = pip_audit()
    deps = report["dependencies"]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = [d for d in deps if "skip_reason" not in d]
    findings = [(d, v) for d in audited for v in d.get("vulns", [])]
    open_findings = [(d, v) for d, v in findings if accepted_reason(v) is None]

    print(f"pip-audit against PyPI: {len(audited)} of {len(deps)} installed packages audited.")
    for dep, vuln in findings:
        fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
        reason = accepted_reason(vuln)
        status = f"accepted: {reason}" if reason else "NOT ACCEPTED"
        print(f"  {dep['name']} {dep['version']}: {vuln['id']} ({fixed}) - {status}")
    if skipped:
        print(f"NOT AUDITED: {len(skipped)} packages, for example:")
        for dep in skipped[:5]:
            print(f"  {dep['skip_reason']}")
        print(
            "An audit that skipped packages is not a clean audit. This usually means the "
            "package index here does not serve PyPI's per-version JSON "
            "(https://pypi.org/pypi/<name>/<version>/json); run `make audit` where pypi.org "
            "itself is reachable."
        )
    if open_findings:
        print(f"{len(open_findings)} finding(s) not accepted: upgrade, or explain them in "
              "docs/operations.md and scripts/audit.py.")  # fmt: skip
    if skipped or open_findings:
        return 1
    print("No vulnerability other than the accepted ones above.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
