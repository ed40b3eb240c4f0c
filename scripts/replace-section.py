#!/usr/bin/env python3
"""Replaces (or appends) the "## TITLE..." section of BENCHMARKS.md with the content of SECTION_FILE.
usage: replace-section.py SECTION_FILE "## Title prefix" """
import os
import sys

section = open(sys.argv[1]).read().rstrip() + "\n"
title = sys.argv[2]
text = open("BENCHMARKS.md").read() if os.path.exists("BENCHMARKS.md") else "# Benchmarks\n"
start = text.find(title)
if start >= 0:
    nxt = text.find("\n## ", start + 1)
    # The section, then a blank line before the next one.
    text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
else:
    text = text.rstrip() + "\n\n" + section
open("BENCHMARKS.md", "w").write(text)
