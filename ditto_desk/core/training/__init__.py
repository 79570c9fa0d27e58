"""The DITTO engine: settings and presets, segments, sampling, pairs, the SFT and DPO phases, teaching by editing."""
