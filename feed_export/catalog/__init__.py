"""The PIM's structure (attributes, channels, units...), header resolution and the codecs."""
