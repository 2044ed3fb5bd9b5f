#!/usr/bin/env python3
"""Rewrites real-layout submission archives (NAME/ix08_V08.xml, NAME/DATA/,
NAME/CLAIMS/) in the flat layout kenbank's generator wrote before issue 15
(ix08, su08 and DATA/ at the top, no settlements), so bench/ingest can time
both layouts on the same exams in one run."""
import os, sys, zipfile

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in sorted(os.listdir(src)):
    if not name.endswith(".zip"):
        continue
    with zipfile.ZipFile(os.path.join(src, name)) as zin, \
         zipfile.ZipFile(os.path.join(dst, name), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            parts = info.filename.split("/", 1)
            rest = parts[1] if len(parts) == 2 else parts[0]
            if not rest or rest.endswith("/") or rest.startswith("CLAIMS/"):
                continue
            zout.writestr(rest, zin.read(info))
