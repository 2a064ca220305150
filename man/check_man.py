#!/usr/bin/env python3
"""Checks a manual page against its program: the options --help prints and
the options the page documents are the same (both ways), and, given
--keys, so are the configuration keys --config-reference prints and those
the page lists (.It Cm KEY) under the named section headings.

  check_man.py PAGE [--program PATH] [--keys 'HEADING=SECTION']...
                    [--reference PATH]

--program: the options of PATH --help against the page's Fl macros.
--keys 'THE DAEMON SECTION=daemon': the keys listed under .Sh THE DAEMON
SECTION against the [daemon] keys of --reference's --config-reference
(--reference defaults to --program). Exit 0 when they agree, 1 otherwise,
naming each difference."""
import argparse
import re
import subprocess
import sys


def help_options(program):
    text = subprocess.run([program, "--help"], capture_output=True, text=True, check=True).stdout
    opts = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
    for line in text.splitlines():
        # "  -c, --config FILE" and "  -w  ..." start an option's line.
        m = re.match(r"^\s+(-[A-Za-z0-9])[,\s]", line)
        if m:
            opts.add(m.group(1))
    return opts


def page_options(source):
    opts = set()
    for m in re.finditer(r"\bFl\s+((?:\\-)?-?)([A-Za-z0-9][A-Za-z0-9\\-]*)", source):
        dash, name = m.group(1), m.group(2).replace("\\-", "-")
        opts.add(("--" if dash else "-") + name)
    # ".Fl \-rebuild | \-check\-config | h": the alternatives after '|'.
    for m in re.finditer(r"^\.(?:Op\s+)?Fl\s+(.*)$", source, re.M):
        for alt in re.split(r"\s+\|\s+", m.group(1))[1:]:
            opts.add("-" + alt.split()[0].replace("\\-", "-"))
    return {o for o in opts if re.fullmatch(r"-[A-Za-z0-9]|--[a-z][a-z0-9-]*", o)}


def reference_keys(program):
    text = subprocess.run([program, "--config-reference"], capture_output=True, text=True,
                          check=True).stdout
    keys, section = set(), None
    for line in text.splitlines():
        m = re.match(r"^([\w.]+)\.([a-z0-9_]+) \(", line)
        if m:
            keys.add((m.group(1), m.group(2)))
            continue
        m = re.match(r"^\[([\w.]+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([a-z0-9_]+) = ", line)
        if m and section:
            keys.add((section, m.group(1)))
    return keys


def page_keys(source, headings):
    keys, section = set(), None
    for line in source.splitlines():
        if line.startswith(".Sh "):
            section = headings.get(line[4:].strip().strip('"'))
            continue
        m = re.match(r"^\.It Cm ([a-z0-9_]+)", line)
        if m and section:
            keys.add((section, m.group(1)))
    return keys


def differ(what, page, ours, theirs, ours_name, theirs_name):
    bad = 0
    for x in sorted(ours - theirs):
        print(f"{page}: {what} {x} is in {ours_name} but not in {theirs_name}")
        bad = 1
    for x in sorted(theirs - ours):
        print(f"{page}: {what} {x} is in {theirs_name} but not in {ours_name}")
        bad = 1
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--program")
    ap.add_argument("--reference")
    ap.add_argument("--keys", action="append", default=[])
    a = ap.parse_args()
    source = open(a.page, encoding="utf-8").read()
    bad = 0
    if a.program:
        h, p = help_options(a.program), page_options(source)
        bad |= differ("option", a.page, h, p, "--help", "the page")
        print(f"{a.page}: {len(h & p)} options in --help and the page")
    if a.keys:
        headings = dict(k.split("=", 1) for k in a.keys)
        r = reference_keys(a.reference or a.program)
        r = {k for k in r if k[0] in headings.values()}
        p = page_keys(source, headings)
        bad |= differ("key", a.page, r, p, "--config-reference", "the page")
        print(f"{a.page}: {len(r & p)} configuration keys in --config-reference and the page")
    return bad


if __name__ == "__main__":
    sys.exit(main())
