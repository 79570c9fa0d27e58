"""How long reading a large mailbox takes, and how much memory: an mbox of SIZE built from the shipped real
emails (each made unique, one in EVERY carrying an attachment of ATTACH bytes, half of them sent by the user),
then read and picked from as `ditto-desk profiles add-mail` does. Prints wall time, peak memory, counts.

    python benchmarks/bench_mailbox.py [--size-mb 1024] [--attach-kb 400] [--every 6] [--keep FILE]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from texts import MAIL_CORPUS  # noqa: E402

from ditto_desk.core.mailbox.picking import pick_representative  # noqa: E402
from ditto_desk.core.mailbox.scan import scan_mailbox  # noqa: E402

ME = "me@example.org"


def build(path: Path, size: int, attach: int, every: int) -> int:
    """Write the mbox; return its message count."""
    rng = random.Random(0)
    emails = [p.read_bytes() for p in sorted(MAIL_CORPUS.glob("*/*.eml"))]
    blob = base64.encodebytes(rng.randbytes(attach))
    written = count = 0
    with path.open("wb") as out:
        while written < size:
            head, _, body = emails[count % len(emails)].partition(b"\n\n")
            headers = [h for h in head.split(b"\n") if not h.lower().startswith((b"from:", b"content-type:"))]
            sender = ME if count % 2 == 0 else f"other{count % 50}@example.com"
            tag = f"Note {count} of the day.\n\n".encode()  # first, so no two bodies are the same
            message = b"\n".join([f"From: Me <{sender}>".encode(), *headers]) + b"\n"
            if count % every == 0:
                message += b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
                message += tag + body + b"\n--b\nContent-Type: application/octet-stream\n"
                message += b"Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\n" + blob + b"--b--\n"
            else:
                message += b"Content-Type: text/plain\n\n" + tag + body
            message = message.replace(b"\nFrom ", b"\n>From ")
            chunk = f"From {sender} Mon Dec  7 12:00:00 2026\n".encode() + message + b"\n"
            out.write(chunk)
            written += len(chunk)
            count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--attach-kb", type=int, default=400)
    parser.add_argument("--every", type=int, default=6)
    parser.add_argument("--keep", type=Path, help="write the mbox here (default: a temporary file, removed)")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkstemp(suffix=".mbox")[1])
    try:
        start = time.perf_counter()
        count = build(path, args.size_mb * 1_000_000, args.attach_kb * 1000, args.every)
        print(f"built {path.stat().st_size / 1e6:,.0f} MB, {count:,} messages in {time.perf_counter() - start:.1f} s")
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        scan = scan_mailbox(path, [ME])
        read = time.perf_counter() - start
        picks = pick_representative(scan.own.found)
        total = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("\n".join(scan.summary()))
        print(f"read {read:.1f} s, picked {len(picks)} in {total - read:.1f} s: {total:.1f} s in all")
        print(f"peak RSS {peak:,.0f} MB (before reading {base:,.0f} MB)")
        for pick in picks:
            print(f"  {pick.demonstration.prompt[:60]}  | {pick.reason}")
    finally:
        if args.keep is None:
            os.unlink(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
