"""askseed: ask questions of a folder of documents and get quoted answers, offline."""

__version__ = "0.1.0"
