#!/usr/bin/env python3
"""kenbank's own source checks, in the spirit of curl's checksrc: the
architecture's rules, enforced by `make lint` (and so by `make test`) rather
than by memory.  Each rule is one function below; docs/CONTRIBUTING.md lists
them.  Exceptions live in tools/lint-allow.txt, one per line with the reason,
so every one of them is visible and can be burnt down.

    tools/lint.py [--root DIR] [--lib build/libkenbank.a] [--allow FILE]

Exit 0 when only warnings remain, 1 on any violation, 2 on bad usage.
"""
import argparse
import os
import re
import subprocess
import sys

# Which top-level folders of src/ a folder may include from (its own is
# always allowed).  ARCHITECTURE.md draws these layers; main.c and cli/ and
# server/ sit on top and may use anything below them.
BELOW_TOP = ["util", "domain", "formats", "store", "audit", "ident", "consent", "auth", "ingest",
             "biobank", "portal", "analytics", "zone", "gen", "person"]
LAYERS = {
    "util": [],
    "domain": ["util"],
    "formats": ["util", "domain"],
    "store": ["util"],
    "audit": ["util", "store"],
    "ident": ["util", "domain", "store", "audit"],
    "auth": ["util", "store", "audit", "ident"],
    "consent": ["util", "store", "audit", "ident"],
    "ingest": ["util", "domain", "formats", "store", "audit", "ident", "consent"],
    "biobank": ["util", "store", "audit", "ident", "auth", "consent", "ingest"],
    "portal": ["util", "domain", "formats", "store", "audit", "ident", "auth", "consent", "ingest"],
    "analytics": ["util", "domain", "formats", "store", "audit", "ident", "consent", "biobank", "ingest"],
    "zone": ["util", "domain", "store"],
    "gen": ["util", "domain", "formats", "ident"],
    # the list of per-pseudonym owners: above every owner it names
    "person": ["util", "store", "ident", "consent", "ingest", "biobank", "portal"],
    "server": BELOW_TOP + ["server"],
    "cli": BELOW_TOP + ["server", "cli"],
    "main.c": BELOW_TOP + ["cli"],
}

LONG_FUNCTION = 120

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
WRITE = re.compile(r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)", re.I)
DIALECT = [
    (re.compile(r"\bPRAGMA\b"), "PRAGMA"),
    (re.compile(r"\bsqlite_master\b|\bsqlite_schema\b"), "SQLite catalogue"),
    (re.compile(r"\bAUTOINCREMENT\b", re.I), "AUTOINCREMENT"),
    (re.compile(r"\bILIKE\b"), "ILIKE"),
    (re.compile(r"\b(?:julianday|strftime|datetime)\s*\("), "SQLite date function"),
    (re.compile(r"[\w)]::[a-z]"), "PostgreSQL cast"),
]
DIALECT_API = re.compile(r"#\s*include\s*<(?:sqlite3|libpq-fe)\.h>|\bsqlite3_\w+\s*\(|\bPQ[a-z]\w*\s*\(")
MHD = re.compile(r"#\s*include\s*<microhttpd\.h>|\bMHD_\w+")
IN_TX = re.compile(r"(?:->|\.)in_tx\b")


def strip_comments(text):
    """C source without comments, line structure kept, strings intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sql_texts(code):
    """Each run of adjacent string literals joined (C concatenates them), with
    the line it starts on: SQL is often split over several literals."""
    runs, cur, start, last_end = [], [], 0, -1
    for m in STRING.finditer(code):
        between = code[last_end:m.start()] if last_end >= 0 else None
        if cur and between is not None and between.strip() == "":
            cur.append(m.group(1))
        else:
            if cur:
                runs.append((start, "".join(cur)))
            cur, start = [m.group(1)], code.count("\n", 0, m.start()) + 1
        last_end = m.end()
    if cur:
        runs.append((start, "".join(cur)))
    return runs


def table_owners(root):
    """Table -> owner files, from the `owner:` comments in src/store/schema.c
    (the one place that names them): a comment covers the tables after it
    within its migration step."""
    path = os.path.join(root, "src/store/schema.c")
    owners, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"\s*\{\d+,", line):
                current = None  # an owner comment covers the tables after it in its own step
            m = re.search(r"owner:\s*([^.]*?\.c(?:[^.]*?\.c)*)[.)]?(?:\s|$)", line)
            if m:
                current = re.findall(r"[a-z_]+/[a-z_]+\.c", m.group(1))
            t = re.search(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", line)
            if t:
                owners.setdefault(t.group(1), set()).update(current or [])
    return owners


class Lint:
    def __init__(self, root, allow):
        self.root, self.allow, self.used = root, allow, set()
        self.errors, self.warnings = [], []

    def error(self, rule, path, line, what, key=None):
        key = key or f"{rule} {path}"
        if key in self.allow or f"{rule} {path}" in self.allow:
            self.used.add(key if key in self.allow else f"{rule} {path}")
            return
        self.errors.append(f"{path}:{line}: {rule}: {what}")

    def layers(self, path, code):
        parts = path.split("/")
        me = parts[1] if len(parts) > 2 else parts[1]
        allowed = LAYERS.get(me)
        if allowed is None:
            self.error("layer", path, 1, f"folder src/{me}/ has no place in tools/lint.py's LAYERS")
            return
        for m in INCLUDE.finditer(code):
            dep = m.group(1)
            if dep != me and dep not in allowed:
                line = code.count("\n", 0, m.start()) + 1
                self.error("layer", path, line, f"src/{me}/ may not include src/{dep}/ (layers: ARCHITECTURE.md)",
                           key=f"layer {path} {dep}")

    def writes(self, path, code, owners):
        rel = path[len("src/"):]
        for line, sql in sql_texts(code):
            for m in WRITE.finditer(sql):
                table = m.group(1).lower()
                if table not in owners or rel in owners[table]:
                    continue
                self.error("owner", path, line,
                           f"writes table {table}, owned by {', '.join(sorted(owners[table]))} (src/store/schema.c)",
                           key=f"owner {path} {table}")

    def dialect(self, path, code):
        if path.startswith("src/store/"):
            return
        for line, sql in sql_texts(code):
            if not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|WITH|PRAGMA)\b", sql):
                continue
            for rx, what in DIALECT:
                if rx.search(sql):
                    self.error("dialect", path, line, f"{what} in SQL outside src/store/ (only store/ knows dialects)",
                               key=f"dialect {path} {what}")
        for m in DIALECT_API.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            self.error("dialect", path, line, f"'{m.group(0).strip()}': a database API outside src/store/")

    def http(self, path, code):
        if path.startswith("src/server/"):
            return
        m = MHD.search(code)
        if m:
            line = code.count("\n", 0, m.start()) + 1
            self.error("http", path, line, f"'{m.group(0)}': libmicrohttpd outside src/server/")

    def in_tx(self, path, code):
        if path.startswith("src/store/"):
            return
        m = IN_TX.search(code)
        if m:
            line = code.count("\n", 0, m.start()) + 1
            self.error("in_tx", path, line, "a connection's transaction state read outside src/store/")

    def long_functions(self, path, code):
        lines = code.split("\n")
        start = name = None
        for i, text in enumerate(lines):
            if start is None:
                m = re.match(r"^[a-zA-Z_][\w \*]*?\b(\w+)\s*\([^;]*$", text)
                if m and not text.startswith(("typedef", "struct", "enum", "static const", "const")):
                    j = i
                    while j < len(lines) and "{" not in lines[j] and ";" not in lines[j]:
                        j += 1
                    if j < len(lines) and lines[j].rstrip().endswith("{") and ";" not in lines[j]:
                        start, name = i, m.group(1)
            elif text.startswith("}"):
                n = i - start + 1
                if n > LONG_FUNCTION:
                    self.warnings.append(f"{path}:{start + 1}: long: {name} is {n} lines (over {LONG_FUNCTION})")
                start = None

    def outside_mentions(self):
        """Every identifier named in code outside the library: the program's
        main.c, the unit tests, benchmarks, fuzzers and tools may call an
        internal function the library itself uses in one file only."""
        words = set()
        for top in ("tests", "bench", "tools"):
            for dirpath, _, files in os.walk(os.path.join(self.root, top)):
                for fn in files:
                    if fn.endswith((".c", ".h")):
                        with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                            words.update(re.findall(r"\bkb_\w+", f.read()))
        main = os.path.join(self.root, "src/main.c")
        if os.path.exists(main):
            with open(main, encoding="utf-8", errors="replace") as f:
                words.update(re.findall(r"\bkb_\w+", f.read()))
        return words

    def exports(self, lib):
        """Globals carry the kb_ prefix, and a function or table no other
        object uses is static: an export is a promise to other modules, and
        one nobody takes up only widens what a change has to check."""
        try:
            out = subprocess.run(["nm", lib], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            self.errors.append(f"{lib}: export: cannot read symbols: {e}")
            return
        obj = None
        defined, used = {}, {}
        members = 0  # two members may share a name (ingest/ and cli/quarantine.o)
        for line in out.splitlines():
            if line.endswith(".o:"):
                obj, members = line[:-1], members + 1
                continue
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                used.setdefault(parts[1], set()).add(members)
                continue
            if len(parts) != 3 or parts[1] not in "TDBRCV":
                continue
            sym = parts[2]
            defined[sym] = (members, obj)
            if not sym.startswith("kb_"):
                self.error("export", obj or lib, 0, f"exported symbol '{sym}' lacks the kb_ prefix (make it static?)",
                           key=f"export {sym}")
        outside = self.outside_mentions()
        for sym, (member, o) in sorted(defined.items()):
            if sym.startswith("kb_") and not (used.get(sym, set()) - {member}) and sym not in outside:
                path, line = self.definition(o, sym)
                self.error("export", path, line, f"'{sym}' is used in its own file only: make it static",
                           key=f"export {sym}")

    def definition(self, obj, sym):
        """Where a library member's symbol is defined in src/, for a message
        a newcomer can follow (members are named by their object file)."""
        stem = (obj or "").rsplit(".", 1)[0]
        for dirpath, _, files in os.walk(os.path.join(self.root, "src")):
            if stem + ".c" in files:
                full = os.path.join(dirpath, stem + ".c")
                with open(full, encoding="utf-8", errors="replace") as f:
                    for n, text in enumerate(f, 1):
                        if re.match(r"^[A-Za-z_].*\b" + re.escape(sym) + r"\s*[(\[=]", text):
                            return os.path.relpath(full, self.root), n
        return obj or "?", 0

    def owners_named(self, owners):
        for table, files in sorted(owners.items()):
            if not files:
                self.error("owner", "src/store/schema.c", 1, f"table {table} names no owner (an 'owner:' comment)")
            for f in sorted(files):
                if not os.path.exists(os.path.join(self.root, "src", f)):
                    self.error("owner", "src/store/schema.c", 1, f"table {table}: owner src/{f} does not exist")

    def rule_index(self):
        """ARCHITECTURE.md's rule index must name functions that exist where
        it says: a newcomer follows it, and a renamed function would
        otherwise leave it pointing nowhere."""
        doc = os.path.join(self.root, "docs/ARCHITECTURE.md")
        if not os.path.exists(doc):
            return
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"^## Where each rule lives\n(.*?)(?=^## )", text, re.M | re.S)
        if not m:
            self.error("docs", "docs/ARCHITECTURE.md", 1, "no section '## Where each rule lives' (the rule index)")
            return
        rows = 0
        for row in re.finditer(r"^\|[^|]*\|\s*`([a-z_]+/[a-z_]+\.c): ([^`]+)`(.*)\|\s*$", m.group(1), re.M):
            rows += 1
            path = os.path.join(self.root, "src", row.group(1))
            names = [row.group(2)] + re.findall(r"`([a-z_][a-z0-9_]*)`", row.group(3))
            if not os.path.exists(path):
                self.error("docs", "docs/ARCHITECTURE.md", 1, f"rule index names src/{row.group(1)}, which does not exist")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                code = f.read()
            for name in names:
                if not re.search(r"^[a-zA-Z_][\w \*]*\b" + re.escape(name) + r"\s*\(", code, re.M):
                    self.error("docs", "docs/ARCHITECTURE.md", 1,
                               f"rule index: no function {name} defined in src/{row.group(1)}",
                               key=f"docs {name}")
        if rows == 0:
            self.error("docs", "docs/ARCHITECTURE.md", 1, "the rule index has no rows of the form | rule | `file.c: function` |")

    def stale_names(self, sources):
        """A comment that names a kb_ function or type no code names any
        more sends the reader looking for something that is gone."""
        named = set()
        for _, text in sources:
            named.update(re.findall(r"\bkb_\w+", strip_comments(text)))
        for top in ("tests", "bench"):
            for dirpath, _, files in os.walk(os.path.join(self.root, top)):
                for fn in files:
                    if fn.endswith((".c", ".h")):
                        with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                            named.update(re.findall(r"\bkb_\w+", strip_comments(f.read())))
        for path, text in sources:
            for m in re.finditer(r"/\*.*?\*/|//[^\n]*", text, re.S):
                for name in re.findall(r"\bkb_[a-z0-9_]*[a-z0-9]\b", m.group(0)):
                    if name not in named:
                        line = text.count("\n", 0, m.start()) + 1
                        self.error("docs", path, line, f"comment names {name}, which no code defines or uses",
                                   key=f"docs {name}")

    def run(self, lib):
        owners = table_owners(self.root)
        self.owners_named(owners)
        self.rule_index()
        sources = []
        for dirpath, _, files in os.walk(os.path.join(self.root, "src")):
            for fn in sorted(files):
                if not fn.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, fn)
                path = os.path.relpath(full, self.root)
                with open(full, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                sources.append((path, text))
                code = strip_comments(text)
                self.layers(path, code)
                if path != "src/store/schema.c":
                    self.writes(path, code, owners)
                self.dialect(path, code)
                self.http(path, code)
                self.in_tx(path, code)
                if fn.endswith(".c"):
                    self.long_functions(path, code)
        self.stale_names(sources)
        if lib:
            self.exports(lib)
        for key in sorted(set(self.allow) - self.used):
            if key.startswith("export ") and not lib:
                continue  # symbols were not read this time
            self.errors.append(f"tools/lint-allow.txt: '{key}' allows nothing any more: remove it")


def read_allow(path):
    allow = {}
    if not path or not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            body = line.split("#", 1)[0].strip()
            if not body:
                continue
            if "#" not in line:
                sys.exit(f"{path}:{n}: every exception needs its reason after '#'")
            allow[" ".join(body.split())] = n
    return allow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--lib", default=None, help="static library whose exported symbols to check")
    ap.add_argument("--allow", default=None, help="exceptions file (default: ROOT/tools/lint-allow.txt)")
    ap.add_argument("--quiet-warnings", action="store_true")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    allow_path = a.allow if a.allow is not None else os.path.join(root, "tools/lint-allow.txt")
    lint = Lint(root, read_allow(allow_path))
    lint.run(a.lib)
    if not a.quiet_warnings:
        for w in lint.warnings:
            print("warning: " + w)
    for e in lint.errors:
        print("error: " + e)
    print(f"lint: {len(lint.errors)} violations, {len(lint.warnings)} warnings")
    return 1 if lint.errors else 0


if __name__ == "__main__":
    sys.exit(main())
