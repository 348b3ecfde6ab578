# The one release build every tool uses. ARBITER_CROSS_MODULE_OPTIMIZATION=1 makes Package.swift
# build the hot path's modules with cross-module optimisation, so that the executable specialises
# the generic match server, snapshot encoder and UDP handler for the game it hosts; without it
# they run unspecialised through witness tables (about 4x the allocations per tick). See
# docs/ARCHITECTURE.md, "Specialisation". One setting for every tool, so that they share one build.
export ARBITER_CROSS_MODULE_OPTIMIZATION=1
release_flags=(-c release)
release_build() { swift build "${release_flags[@]}" "$@"; }
