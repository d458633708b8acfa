#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test CGI in Python: ?read=PATH prints the first line of PATH,
?write=PATH creates PATH; a failure is reported in the body."""
import os

op, _, path = os.environ.get("QUERY_STRING", "").partition("=")
print("Content-Type: text/plain")
print()
print("py.cgi in", os.getcwd())
try:
    if op == "read":
        with open(path, encoding="utf-8") as f:
            print("read ok:", f.readline().rstrip("\n"))
    elif op == "write":
        with open(path, "w", encoding="utf-8") as f:
            f.write("written by py.cgi\n")
        print("write ok")
    else:
        print("usage: ?read=PATH or ?write=PATH")
except OSError as e:
    print(f"{op} failed: {e.strerror}")
