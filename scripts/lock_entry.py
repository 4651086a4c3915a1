"""Print one package's pinned line, with its hashes, from a lock file (for building it on its own)."""
import re
import sys


def entry(lock_text: str, name: str) -> str:
    """The requirement block for `name` (version and --hash lines) from a pip-compile style lock."""
    norm = re.sub(r"[-_.]+", "-", name).lower()
    lines, out, taking = lock_text.splitlines(), [], False
    for line in lines:
        if line and not line[0].isspace() and not line.startswith("#"):
            pkg = re.split(r"[=\[ ;]", line, maxsplit=1)[0]
            taking = re.sub(r"[-_.]+", "-", pkg).lower() == norm
        if taking and not line.lstrip().startswith("#"):
            out.append(line)
    if not out:
        raise SystemExit(f"{name} is not in the lock file")
    text = "\n".join(out).rstrip(" \\\n")
    return text + "\n"


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(entry(f.read(), sys.argv[2]))
