"""The fault battery (issue 12): bad input, dying processes, malformed and oversized traffic."""
