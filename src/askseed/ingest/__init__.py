"""From a folder of documents to stored chunks: walk, read, split, dedup, chunk, index."""
