#!/usr/bin/env bash
# Where corpora live on this machine. VAS (Zhou et al., 2018; the paper's data): a folder in
# either layout <root>/<category>/videos/*.mp4 or <root>/videos/<category>/*.mp4.
# Leave it empty to run on the built-in synthetic corpus.
VAS=${VAS:-}
# Where the built-in synthetic corpus is written when VAS is not available.
VAS_SYNTH=${VAS_SYNTH:-downloads/vas_synth}
# Where the built-in corpus of real recorded drum sounds (corpus real_sfx, from Debian's
# hydrogen-drumkits) is written; its .deb is downloaded to the folder "debs" beside it.
REAL_SFX=${REAL_SFX:-downloads/real_sfx}
