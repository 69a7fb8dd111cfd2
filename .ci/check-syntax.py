"""Parse every YAML and TOML file the project ships, so a broken example fails CI."""
import pathlib
import sys
import tomllib

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
skip = {"target", "node_modules", ".git", "data"}
failed = 0
checked = 0
for path in sorted(root.rglob("*")):
    if skip & set(path.relative_to(root).parts) or not path.is_file():
        continue
    try:
        if path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(path.read_text()))
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text())
        else:
            continue
        checked += 1
    except Exception as e:  # noqa: BLE001 - report any parse failure with its file
        failed += 1
        print(f"{path.relative_to(root)}: {e}", file=sys.stderr)
print(f"syntax: {checked} YAML/TOML files parsed, {failed} broken")
sys.exit(1 if failed else 0)
