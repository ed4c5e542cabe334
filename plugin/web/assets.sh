#!/bin/sh
# assets.sh NAME=FILE... - the panel's static files as C strings, for
# assets.c (see assets.h): each line of FILE a string literal, escaped.
set -e
echo '/* assets.c - written by plugin/web/assets.sh from the static files: do not edit. */'
echo '#include "assets.h"'
for arg; do
    name=${arg%%=*}
    file=${arg#*=}
    echo
    echo "const char asset_$name[] ="
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$file"
    echo ';'
done
