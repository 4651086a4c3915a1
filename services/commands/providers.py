"""`providers`: the providers, their models, what they can do and whether they are configured."""
from __future__ import annotations

import json

from services.providers import all_providers, default_provider


def register(subparsers, common) -> None:
    p = subparsers.add_parser("providers", parents=[common], help="list providers and models")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    default = default_provider().name
    rows = []
    for provider in all_providers():
        caps = [name for name, on in vars(provider.capabilities).items() if on]
        rows.append({"name": provider.name, "label": provider.label, "configured": provider.is_configured(),
                     "default": provider.name == default, "key_env": provider.key_env,
                     "base_url": provider.default_base_url, "capabilities": caps,
                     "models": [m.name for m in provider.models()]})
        if hasattr(provider, "state"):
            rows[-1]["server"] = provider.state()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        mark = "*" if row["default"] else " "
        state = "configured" if row["configured"] else (f"set {row['key_env']}" if row["key_env"] else "not configured")
        print(f"{mark} {row['name']:<18} {state:<28} {', '.join(row['capabilities'])}")
        if row["models"]:
            print(f"    models: {', '.join(row['models'])}")
        if "server" in row:
            server = row["server"]
            line = f"    server: {server['state']}"
            line += f" ({server['reason']})" if server["reason"] else ""
            print(line)
    return 0
