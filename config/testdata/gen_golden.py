#!/usr/bin/env python3
"""Writes the golden files of json_test.go: the nested sample of
TestMarshalGolden as Python's json module writes it.

sample.json       ska-sdp-config's form: ensure_ascii=False, indent=2,
                  separators=(",", ": "), sort_keys=True
sample_ascii.json Python's defaults with indent=2, sort_keys=True
                  (ensure_ascii=True)

Run from config/testdata: python3 gen_golden.py
"""
import json

sample = {
    "id": "pb-test-20240101-00000",
    "count": 42,
    "big": 12345678901234567890,
    "ratio": 0.1,
    "tiny": 1e-05,
    "small": 0.0001,
    "huge": 1.5e300,
    "neg": -2.5,
    "flag": True,
    "nothing": None,
    "text": 'h\u00e9llo "q" \\ / \n\t\r\b\f\x01\x1f\x7f \u65e5\u672c \U0001F600 <&> \u2028',
    "inner": {
        "zeta": "last",
        "alpha": [3, 1, 2],
        "empty": {},
        "none": [],
        "deep": {"b": [{}, [], {"y": [True, False, None]}], "a": {"k": "v"}},
    },
    "parameters": {"b": 1, "B": 2, "a1": 3, "a": 4, "\u00e9": 5, "z": 6, "": 7},
    "Items": ["x", 1, 2.25, {"q": []}],
}

with open("sample.json", "w", encoding="utf-8") as f:
    f.write(json.dumps(sample, ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True))
with open("sample_ascii.json", "w", encoding="utf-8") as f:
    f.write(json.dumps(sample, indent=2, sort_keys=True))
