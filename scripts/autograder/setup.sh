#!/bin/sh
# Gradescope runs this once, as root, on its Ubuntu image, when the
# autograder zip is uploaded (this folder is /autograder/source). It
# installs kevlab's Debian packages with the repository's own script and
# builds the framework once, so that each submission only recompiles its
# own files.
set -eu
cd "$(dirname "$0")"
kevlab/scripts/install-deps
make -C kevlab -s BUILD=build/skeleton SOLUTION=0 all
echo "setup.sh: kevlab is installed and built."
