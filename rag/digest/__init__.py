"""What arrived: summaries (one article, and batches kept on disk), the digest page with its
Updated and Disagreements sections, the digests' Atom feed, and batch work on Ray. May import
every wing before it (core, sources, index, generation, reading), never answers."""
