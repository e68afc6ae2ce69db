#!/bin/sh
# Gradescope runs this once, as root, on its Ubuntu image, when the
# autograder zip is uploaded (this folder is /autograder/source). It
# installs kevlab's Debian packages with the repository's own script,
# creates the unprivileged user that compiles student code (kevlab-build),
# builds the framework once (the kernel, the guests, the hidden tests: all
# prebuilt, so that a submission only recompiles its own files), and makes
# this folder readable by root only: the build user never sees the hidden
# tests' sources (it compiles in a folder holding only the student's file
# and headers/).
set -eu
cd "$(dirname "$0")"
kevlab/scripts/install-deps
PROJECT=$(python3 -c 'import json; print(json.load(open("autograder.json"))["project"])')
USER_NAME=$(python3 -c 'import json; print(json.load(open("autograder.json"))["build_user"])')
if [ "$(id -u)" = 0 ]; then
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin "$USER_NAME"
        echo "setup.sh: created the build user $USER_NAME"
    fi
else
    echo "setup.sh: not root: student code will be compiled as $(id -un), without a user of its own" >&2
fi
make -C kevlab -s --no-print-directory PROJECT="$PROJECT" all
chmod -R go-rwx .
echo "setup.sh: kevlab project $PROJECT is installed and built."
