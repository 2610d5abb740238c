"""Evidence readers: bytes and text in, model records out. Nothing here decides what is wrong."""
