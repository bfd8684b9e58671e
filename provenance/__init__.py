"""provenance: firmware and software-package provenance auditor."""

__version__ = "0.1.0"
