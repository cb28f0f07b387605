"""``vs-demo``: a local web page that generates a video's sound from an uploaded reference.

Needs the ``demo`` extra (``pip install 'vs_plugin[demo]'``, ``tools/install.sh --with-demo``).
"""
