"""``python -m vs_plugin.data.synth``: write the built-in corpus (see ``corpus.main``)."""

import sys

from vs_plugin.data.synth.corpus import main

if __name__ == "__main__":
    sys.exit(main())
