# tests/: the framework's own tests. Each kind has its own .mk; this file
# only includes them.
include tests/host/host.mk
