"""Stress variants of ``assets/articles/deepseek-shock.yaml``, for the layout tests.

Run ``python tests/data/stress/make_stress.py [OUT_DIR]`` to write them (default: next to this
script); the tests call :func:`write_all` into a temporary folder instead, so nothing generated
is committed. Every variant keeps ``template: deepseek``.

* ``long.yaml``: every claim's texts (``text`` and ``short``) three times as long, the text
  repeated with ``' / '`` between the copies;
* ``many.yaml``: 200 claims, the original ones followed by copies with suffixed ids
  (``v3-cost-2``, ``v3-cost-3`` ...) and suffixed figure ids (``v3_cost_usd_2`` ...);
* ``token.yaml``: one claim (shown on a slide and in the sources) whose texts carry a
  60-character unbroken token, a long URL-like string and an 80-syllable Korean sentence
  without spaces.
"""

from __future__ import annotations

import copy
import itertools
import re
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BASE = ROOT / "assets" / "articles" / "deepseek-shock.yaml"

MANY = 200
TOKEN_CLAIM = "r1-benchmarks-claim"  # its full text is a bullet on the performance slide
TOKEN = "A" * 60
URL = "https://example.com/" + "deepseek-r1-benchmark-results-aime-2024-pass-at-1" * 2
# 80 Hangul syllables, no spaces
HANGUL_RUN = "".join(itertools.islice(itertools.cycle("딥시크가세계증시를흔들었다"), 80))

_FIG = re.compile(r"\{fig:([A-Za-z0-9_]+)\}")


def load_base(path: Path = BASE) -> dict[str, Any]:
    """The bundled data file as plain YAML data."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def make_long(data: dict[str, Any]) -> dict[str, Any]:
    """Every claim's ``text`` and ``short`` repeated three times, joined by ``' / '``.

    >>> make_long({"claims": [{"text": {"en": "a b"}}]})["claims"][0]["text"]
    {'en': 'a b / a b / a b'}
    """
    out = copy.deepcopy(data)
    for claim in out["claims"]:
        for key in ("text", "short"):
            if claim.get(key):
                claim[key] = {lang: " / ".join([s] * 3) for lang, s in claim[key].items()}
    return out


def make_many(data: dict[str, Any], total: int = MANY) -> dict[str, Any]:
    """``total`` claims: the originals, then copies with ids suffixed ``-2``, ``-3`` ... and
    their figures (and the ``{fig:...}`` references to them) suffixed ``_2``, ``_3`` ...

    >>> d = make_many({"claims": [{"id": "a", "text": {"en": "{fig:x}"},
    ...                            "figures": [{"id": "x"}]}]}, 3)
    >>> [c["id"] for c in d["claims"]], d["claims"][2]["text"], d["claims"][2]["figures"]
    (['a', 'a-2', 'a-3'], {'en': '{fig:x_3}'}, [{'id': 'x_3'}])
    """
    out = copy.deepcopy(data)
    originals = data["claims"]
    claims = copy.deepcopy(originals)
    copy_no = 2
    while len(claims) < total:
        for claim in originals[: total - len(claims)]:
            claims.append(suffixed_claim(claim, copy_no))
        copy_no += 1
    out["claims"] = claims
    return out


def suffixed_claim(claim: dict[str, Any], n: int) -> dict[str, Any]:
    """A copy of ``claim`` with id ``<id>-n`` and its own figures (and references) ``<id>_n``."""
    c = copy.deepcopy(claim)
    own = {f["id"] for f in c.get("figures", [])}
    c["id"] = f"{claim['id']}-{n}"
    for f in c.get("figures", []):
        f["id"] = f"{f['id']}_{n}"

    def ref(m: re.Match[str]) -> str:
        return f"{{fig:{m.group(1)}_{n}}}" if m.group(1) in own else m.group(0)

    for key in ("text", "short"):
        if c.get(key):
            c[key] = {lang: _FIG.sub(ref, s) for lang, s in c[key].items()}
    return c


def make_token(data: dict[str, Any], claim_id: str = TOKEN_CLAIM) -> dict[str, Any]:
    """One claim's en and ko text with :data:`TOKEN`, :data:`URL` and :data:`HANGUL_RUN`."""
    out = copy.deepcopy(data)
    claim = next(c for c in out["claims"] if c["id"] == claim_id)
    claim["text"] = {lang: f"{s} {TOKEN} {URL} {HANGUL_RUN}"
                     for lang, s in claim["text"].items()}
    return out


VARIANTS = {"long": make_long, "many": make_many, "token": make_token}


def write_all(out_dir: Path, base: Path = BASE) -> dict[str, Path]:
    """Write every variant as ``<name>.yaml`` into ``out_dir``; return {name: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_base(base)
    paths = {}
    for name, make in VARIANTS.items():
        variant = make(data)
        assert variant.get("template") == "deepseek", "stress data must keep template: deepseek"
        path = out_dir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(variant, allow_unicode=True, sort_keys=False, width=1000),
                        encoding="utf-8")
        paths[name] = path
    return paths


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE).values():
        print(p)
