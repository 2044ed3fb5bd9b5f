#!/usr/bin/env bash
# Archive entries are inflated by libdeflate from the bytes libzip stores,
# with the entry's CRC-32 checked by kenbank itself (import.c,
# inflate_entry).  A damaged entry is quarantined as unreadable with the
# archive, the entry and the reason (bytes that do not inflate, or inflate
# to something else than the CRC says), and the exams beside it still go in;
# an archive whose entries are stored rather than deflated (zip -0, which
# some converters write) is read through libzip and imports whole.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
K="$KENBANK"
cd "$WORK"

"$K" gen --people 60 --years 1 --seed 5 --out pop --format xml 2>/dev/null
zip=$(ls -S pop/xml/*.zip | head -1)
n=$(unzip -Z1 "$zip" | grep -c '/DATA/h.*\.xml$')
[ "$n" -ge 3 ] || fail "the largest archive has $n exams"

python3 - "$zip" damaged.zip stored.zip <<'PY'
import sys, zipfile, shutil
src, damaged, stored = sys.argv[1:]
shutil.copy(src, damaged)
with zipfile.ZipFile(src) as z:
    infos = z.infolist()
    target = next(i for i in infos if '/DATA/h' in i.filename and i.compress_type == zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(stored, 'w', zipfile.ZIP_STORED) as out:
        for i in infos:
            out.writestr(i.filename, z.read(i.filename))
with open(damaged, 'r+b') as f:
    f.seek(target.header_offset + 26)
    name_len = int.from_bytes(f.read(2), 'little')
    extra_len = int.from_bytes(f.read(2), 'little')
    at = target.header_offset + 30 + name_len + extra_len + target.compress_size // 2
    f.seek(at)
    b = f.read(1)
    f.seek(at)
    f.write(bytes([b[0] ^ 0x5A]))
# a second damaged entry whose bytes inflate cleanly but whose CRC-32 (in the
# local header and the central directory) does not match them
other = next(i for i in infos if '/DATA/h' in i.filename and i.compress_type == zipfile.ZIP_DEFLATED
             and i.filename != target.filename)
with open(damaged, 'r+b') as f:
    data = bytearray(f.read())
    crc = other.CRC ^ 0x1
    data[other.header_offset + 14:other.header_offset + 18] = crc.to_bytes(4, 'little')
    at = data.find(b'PK\x01\x02')
    while at >= 0:
        nl = int.from_bytes(data[at + 28:at + 30], 'little')
        if data[at + 46:at + 46 + nl].decode() == other.filename:
            data[at + 16:at + 20] = crc.to_bytes(4, 'little')
        at = data.find(b'PK\x01\x02', at + 46)
    f.seek(0)
    f.write(data)
PY
bad=$(python3 -c "import zipfile,sys; print(next(i.filename.rsplit('/',1)[-1] for i in zipfile.ZipFile('$zip').infolist() if '/DATA/h' in i.filename and i.compress_type == zipfile.ZIP_DEFLATED))")

"$K" init --data d >/dev/null
rc=0; "$K" import --data d --source s damaged.zip >out 2>err || rc=$?
[ $rc = 3 ] || { cat out err; fail "a damaged entry should exit 3, got $rc"; }
accepted=$(sed -n 's/^exams accepted *\([0-9]*\) .*/\1/p' out)
[ "$accepted" = $((n - 2)) ] || { cat out; fail "expected $((n - 2)) exams beside the two damaged ones, got $accepted"; }
"$K" quarantine list --data d >q
grep -q "$bad" q || { cat q; fail "the damaged entry $bad is not in quarantine"; }
[ "$(grep -c "cannot be decompressed" q)" = 2 ] || { cat q; fail "the quarantine does not hold both damaged entries with the reason"; }

"$K" init --data d2 >/dev/null
rc=0; "$K" import --data d2 --source s stored.zip >out2 2>err2 || rc=$?
[ $rc = 0 ] || { cat out2 err2; fail "an archive of stored entries should import cleanly, got $rc"; }
[ "$(sed -n 's/^exams accepted *\([0-9]*\) .*/\1/p' out2)" = "$n" ] || { cat out2; fail "stored entries: not all $n exams"; }
# An entry written without its content (a converter that crashed mid-write):
# an empty exam and a settlement of white space are quarantined as empty
# files, in words a clinic can act on, not libxml2's "Extra content at the
# end of the document"; the other exams go in.
python3 - "$zip" empty.zip <<'PY'
import sys, zipfile
src, out = sys.argv[1:]
with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as o:
    exams = [i.filename for i in z.infolist() if '/DATA/h' in i.filename]
    claims = [i.filename for i in z.infolist() if '/CLAIMS/c' in i.filename]
    for i in z.infolist():
        if i.filename == exams[0]:
            o.writestr(i.filename, b'')
        elif claims and i.filename == claims[0]:
            o.writestr(i.filename, b'\r\n  \n')
        else:
            o.writestr(i.filename, z.read(i.filename))
PY
"$K" init --data d3 >/dev/null
rc=0; "$K" import --data d3 --source s empty.zip >out3 2>err3 || rc=$?
[ $rc = 3 ] || { cat out3 err3; fail "an empty entry should exit 3, got $rc"; }
[ "$(sed -n 's/^exams accepted *\([0-9]*\) .*/\1/p' out3)" = $((n - 1)) ] || { cat out3; fail "empty entry: expected $((n - 1)) exams"; }
"$K" quarantine list --data d3 >q3
[ "$(grep -c "empty file: the entry holds no XML" q3)" = 2 ] || { cat q3; fail "the empty exam and settlement are not quarantined as empty files"; }
if grep -q "Extra content" q3; then cat q3; fail "libxml2's wording reached the quarantine"; fi
echo "archive_damage: ok ($n exams; $bad quarantined when damaged; stored entries read; empty entries named)"
