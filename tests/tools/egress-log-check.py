#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate every record of nslab run --log files against the log's JSON Schema.

Usage: egress-log-check.py SCHEMA LOG... ; prints the record kinds seen, or
exits non-zero naming the first record (FILE:LINE) that does not validate.
"""
import json
import sys

import jsonschema


def main():
    validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
    kinds = set()
    for path in sys.argv[2:]:
        for i, line in enumerate(open(path), 1):
            rec = json.loads(line)
            err = next(iter(validator.iter_errors(rec)), None)
            if err:
                sys.exit("%s:%d: %s" % (path, i, err.message))
            kinds.add(rec["kind"])
    print(" ".join(sorted(kinds)))


main()
