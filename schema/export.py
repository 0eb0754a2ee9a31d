"""Write the committed SDL: `python -m schema.export` (a test fails when it drifts)."""

from __future__ import annotations

from pathlib import Path

from schema.schema import build_schema

SDL_FILE = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return build_schema(introspection=True).as_str() + "\n"


if __name__ == "__main__":
    SDL_FILE.write_text(sdl())
    print(f"wrote {SDL_FILE}")
