#!/usr/bin/env python3
"""Copies a jar with a manifest naming MAIN_CLASS as its Main-Class (so it runs as
`local:///opt/flink/examples/streaming/NAME.jar` without an entryClass, as the official image's
examples do). Entries are copied as they are; the manifest is written first.
usage: jar-main.py IN.jar MAIN_CLASS OUT.jar"""
import sys
import zipfile


def main():
    src, main_class, dst = sys.argv[1:4]
    with zipfile.ZipFile(src) as zin:
        if main_class.replace(".", "/") + ".class" not in zin.namelist():
            sys.exit(f"jar-main.py: {src} has no class {main_class}")
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            zout.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\r\nMain-Class: {main_class}\r\n\r\n")
            for info in zin.infolist():
                if info.filename.upper() == "META-INF/MANIFEST.MF":
                    continue
                zout.writestr(info, zin.read(info.filename))


if __name__ == "__main__":
    main()
