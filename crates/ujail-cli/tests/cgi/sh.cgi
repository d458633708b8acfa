#!/bin/busybox sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Test CGI in shell (busybox sh, builtins only): ?read=PATH prints the first
# line of PATH, ?write=PATH creates PATH; a failure is reported in the body.
echo "Content-Type: text/plain"
echo
echo "sh.cgi in $PWD"
case $QUERY_STRING in
read=*)
    f=${QUERY_STRING#read=}
    if out=$( (read -r line <"$f" && echo "$line") 2>&1); then
        echo "read ok: $out"
    else
        echo "read failed: $out"
    fi
    ;;
write=*)
    f=${QUERY_STRING#write=}
    if out=$( (echo "written by sh.cgi" >"$f") 2>&1); then
        echo "write ok"
    else
        echo "write failed: $out"
    fi
    ;;
*) echo "usage: ?read=PATH or ?write=PATH" ;;
esac
