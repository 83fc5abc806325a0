# Licensed under a 3-clause BSD style license - see LICENSE
"""Private helpers shared by the stages of galzoo_cnn (nothing public here)."""
