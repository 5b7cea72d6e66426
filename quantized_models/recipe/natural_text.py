"""Write the naturalness panel's default text: about 50,000 words of Jane Austen's "Persuasion" (1818).

The novel is in the public domain. Its text comes from the Project Gutenberg edition as packaged by janeaustenr
(Julia Silge, MIT licence for the package), which Debian ships as `r-cran-janeaustenr`; this reads the package's
R data file directly, so neither R nor the internet is needed:

    apt-get download r-cran-janeaustenr && dpkg-deb -x r-cran-janeaustenr_*.deb ja
    python quantized_models/recipe/natural_text.py ja/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb

Paragraphs are joined into documents of at least 4,000 characters, in the novel's order, until 50,000 words.
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "inspector" / "data" / "natural_text.jsonl"
PERSUASION = 3  # the fourth object of the package's data file (Emma, Mansfield Park, Northanger Abbey, ...)
WORDS = 50_000
MIN_CHARS = 4000


def r_objects(rdb: bytes) -> list[bytes]:
    """The entries of an R lazy-load database: each a 4-byte length and a zlib stream of a serialized object."""
    out, pos = [], 0
    while pos < len(rdb):
        d = zlib.decompressobj()
        out.append(d.decompress(rdb[pos + 4 :]))
        pos = len(rdb) - len(d.unused_data)
    return out


def r_strings(blob: bytes) -> list[str | None]:
    """A serialized R character vector (XDR format, version 2 or 3) as Python strings."""
    at = 2  # "X\n"

    def word() -> int:
        nonlocal at
        (v,) = struct.unpack(">i", blob[at : at + 4])
        at += 4
        return v

    version = word()
    word(), word()  # the writer's R version and the oldest reader's
    if version == 3:
        skip = word()  # the native encoding's name (read before `at` moves on: `at += word()` would lose 4)
        at += skip
    if (word() & 0xFF) != 16:
        raise ValueError("not a character vector")
    lines: list[str | None] = []
    for _ in range(word()):
        word()  # a CHARSXP's flags
        n = word()
        lines.append(None if n == -1 else blob[at : at + n].decode("utf-8"))
        at = at + max(n, 0)
    return lines


def documents(lines: list[str | None]) -> list[str]:
    paragraphs, current = [], []
    for line in lines:
        if line and line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    docs, doc, words = [], [], 0
    for para in paragraphs:
        if para.isupper() or para.startswith("Chapter") or len(para) < 40:
            continue  # titles and chapter headings are not prose
        doc.append(para)
        if sum(len(p) + 1 for p in doc) >= MIN_CHARS:
            docs.append(" ".join(doc))
            words += len(docs[-1].split())
            doc = []
            if words >= WORDS:
                break
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rdb", type=Path, help="janeaustenr's data/Rdata.rdb")
    args = ap.parse_args()
    docs = documents(r_strings(r_objects(args.rdb.read_bytes())[PERSUASION]))
    with OUT.open("w", encoding="utf-8") as f:
        for i, text in enumerate(docs, 1):
            f.write(json.dumps({"id": f"persuasion-{i:03d}", "text": text}, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {sum(len(d.split()) for d in docs)} words -> {OUT}")


if __name__ == "__main__":
    main()
