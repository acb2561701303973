"""Our Rasa input/output channels: the web widget's socket.io channel and text-only messaging apps."""
