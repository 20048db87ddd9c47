# SPDX-License-Identifier: MIT
"""Drop-in shims for the Python APIs nslab replaces (nslab.compat.nse)."""
