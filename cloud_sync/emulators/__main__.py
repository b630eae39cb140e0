"""``python -m cloud_sync.emulators <provider> --port N``: run one local server by hand.

Prints the URL and the credentials to configure, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys

from . import EMULATORS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloud_sync.emulators")
    parser.add_argument("provider", choices=sorted(EMULATORS))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", help="where servers that store files keep them")
    args = parser.parse_args(argv)
    module, _, func = EMULATORS[args.provider].partition(":")
    try:
        factory = getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as exc:
        print(f"no emulator for {args.provider} in this checkout ({exc})", file=sys.stderr)
        return 2
    emulator = factory(host=args.host, port=args.port, data_dir=args.data_dir)
    print(json.dumps({"provider": args.provider, "url": emulator.url,
                      "config": emulator.provider_config()}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emulator.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
