"""The embedding model: its interface, the ONNX runtime that serves it, and its export."""
