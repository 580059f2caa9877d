"""The interfaces people use: the command line and the chat."""
