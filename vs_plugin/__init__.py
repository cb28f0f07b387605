"""vs_plugin: VarietySound (timbre-controllable video-to-sound generation) for fairseq2.

The core package imports without fairseq2; only :mod:`vs_plugin.fairseq2_ext` needs it.
"""

import sys

__version__ = "0.1.0"

# No outside request, ever: OpenVINO's usage reporting (its ``openvino_telemetry`` dependency)
# sends events to the vendor's analytics from a process it forks while other threads may hold
# locks (a deadlock seen in practice), and its documented ``opt_in_out --opt_out`` command
# itself sends an event. Marking the module unimportable for the whole process makes OpenVINO
# and its converter bind their own no-op stubs, whatever imports ``openvino`` and whenever. A
# program that imports ``openvino_telemetry`` before vs_plugin keeps its own choice.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]

