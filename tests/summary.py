#!/usr/bin/python3
"""Adds up JUnit XML results (pytest and cmocka) into one closing line.
Skipped tests are reported but never counted as passed; an empty result set
is a failure (a suite that ran nothing proves nothing)."""

import glob
import os
import sys
import xml.etree.ElementTree as ET


def main(results):
    passed = failed = skipped = 0
    failed_in = set()
    files = sorted(glob.glob(os.path.join(results, "*.xml")))
    for path in files:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            print(f"{os.path.basename(path)}: unreadable ({e})")
            failed += 1
            continue
        for case in root.iter("testcase"):
            kinds = {child.tag for child in case}
            if kinds & {"failure", "error"}:
                failed += 1
                failed_in.add(os.path.basename(path).split("-")[0].split(".")[0])
                print(f"FAILED {case.get('classname')}::{case.get('name')}")
            elif "skipped" in kinds:
                skipped += 1
            else:
                passed += 1
    stages = os.path.join(results, "failed-stages")
    if os.path.exists(stages):
        for stage in open(stages).read().split():
            if stage not in failed_in:
                failed += 1
                print(f"FAILED stage {stage}: exited non-zero (crash or collection error)")
    if passed + failed == 0:
        failed = 1
        print("no test results found")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/test-results"))
