"""Implementations written for the conformance tests, independently of attnreg: correct ones and one per bug."""
