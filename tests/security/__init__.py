"""Security tests: the ZEGO secret never reaches any output of a full local run."""
