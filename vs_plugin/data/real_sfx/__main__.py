"""``python -m vs_plugin.data.real_sfx``: write the real-sound corpus (see ``corpus.main``)."""

import sys

from vs_plugin.data.real_sfx.corpus import main

if __name__ == "__main__":
    sys.exit(main())
