"""Cross-cutting pieces every layer uses: config, paths, errors, session lock, output, clock."""
