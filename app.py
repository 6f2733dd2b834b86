"""Run the web app: ``python app.py [--host H] [--port P] [--allow-open-staff]``
(argument parsing and the start-up report only)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    # Everything runs locally: no model-hub look-ups, no Gradio telemetry.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    from pydantic import ValidationError

    from assistant.errors import AssistantError
    from assistant.settings import Settings

    try:
        settings = Settings()
    except ValidationError as err:
        print(f"error: invalid SKINQA_* setting:\n{err}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="app.py", description="Microneedling Q&A web app.")
    parser.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    parser.add_argument(
        "--allow-open-staff",
        action="store_true",
        help="start even though the staff view has no login and other machines can reach it",
    )
    args = parser.parse_args(argv)

    from assistant.web.ratelimit import ClientAddress
    from assistant.web.staff import exposure_problem, staff_state

    problem = exposure_problem(settings, args.host, args.allow_open_staff)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    import assistant

    try:
        bot = assistant.load(settings)  # once: every session shares it
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    from assistant.web.app import launch

    try:
        served, url = launch(bot, settings, args.host, args.port)
    except AssistantError as err:  # e.g. a malformed SKINQA_CLINIC_FILE
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the port is taken
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Running on {url}", flush=True)
    print(f"Listening on: {args.host}:{args.port}")
    print(f"Staff:        {staff_state(settings)}")
    source = ClientAddress(settings.trusted_proxies).describe()
    limit = settings.rate_limit_per_minute
    print(f"Rate limit:   {limit} questions/min per client; client = {source}", flush=True)
    served.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
