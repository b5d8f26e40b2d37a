"""s1sr: conformance harness for the SMETS1 Supporting Requirements (SEC Appendix AM), Secure cohort."""

__version__ = "0.1.0"
