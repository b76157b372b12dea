#!/usr/bin/python3
"""Generates models/clip/unicode_tables.cpp: the Unicode properties the CLIP tokenizer needs.

The reference tokenizer cleans and splits text with Python's str.lower()/str.strip() and the `regex` module
(\\p{L}, \\p{N}, \\s, IGNORECASE). This script turns the Unicode Character Database of Debian's `unicode-data`
package into sorted range and mapping tables so the C++ tokenizer makes the same decisions for every code point:

  letter         general category L*                          regex \\p{L}
  number         general category N*                          regex \\p{N}
  white_space    PropList White_Space                         regex \\s (what whitespace_clean collapses)
  python_space   bidi class WS/B/S or category Zs             Python str.isspace (what str.strip removes)
  cased, case_ignorable   DerivedCoreProperties               Python's Final_Sigma rule in str.lower
  lower          UnicodeData simple lowercase                 str.lower, plus the unconditional multi-character
  lower_special  SpecialCasing lowercase without condition    mappings (U+0130 -> i + U+0307)
  ascii_fold     CaseFolding C/S to an ASCII letter           IGNORECASE matching of the literal alternatives
  not_symbol     neither L, N nor white space, but a case     IGNORECASE excludes these from [^\\s\\p{L}\\p{N}]
                 variant is a letter or number                (U+0345)

Usage: scripts/gen_clip_unicode_tables.py [UCD_DIR] > models/clip/unicode_tables.cpp   (UCD_DIR: /usr/share/unicode)
"""
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"


def data_lines(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield [field.strip() for field in line.split(";")]


def code_range(field):
    if ".." in field:
        first, last = field.split("..")
        return int(first, 16), int(last, 16)
    return int(field, 16), int(field, 16)


def unicode_data():
    """Yields (code point, fields) for every assigned code point, expanding <..., First>/<..., Last> ranges."""
    first = None
    for fields in data_lines("UnicodeData.txt"):
        cp = int(fields[0], 16)
        if fields[1].endswith(", First>"):
            first = cp
            continue
        if fields[1].endswith(", Last>"):
            for c in range(first, cp + 1):
                yield c, fields
            first = None
            continue
        yield cp, fields


def property_set(name, prop):
    result = set()
    for fields in data_lines(name):
        if len(fields) >= 2 and fields[1] == prop:
            first, last = code_range(fields[0])
            result.update(range(first, last + 1))
    return result


def ranges(points):
    out = []
    for c in sorted(points):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def emit_ranges(name, points):
    rs = ranges(points)
    print(f"const Range {name}[] = {{")
    for i in range(0, len(rs), 6):
        print("    " + " ".join(f"{{0x{a:04X}, 0x{b:04X}}}," for a, b in rs[i:i + 6]))
    print("};")
    print(f"const std::size_t {name}Size = sizeof({name}) / sizeof({name}[0]);\n")


def emit_pairs(name, pairs):
    print(f"const Mapping {name}[] = {{")
    items = sorted(pairs.items())
    for i in range(0, len(items), 6):
        print("    " + " ".join(f"{{0x{a:04X}, 0x{b:04X}}}," for a, b in items[i:i + 6]))
    print("};")
    print(f"const std::size_t {name}Size = sizeof({name}) / sizeof({name}[0]);\n")


def main():
    letter, number, python_space = set(), set(), set()
    lower, upper, title = {}, {}, {}
    for cp, f in unicode_data():
        category, bidi = f[2], f[4]
        if category.startswith("L"):
            letter.add(cp)
        if category.startswith("N"):
            number.add(cp)
        if bidi in ("WS", "B", "S") or category == "Zs":
            python_space.add(cp)
        if f[12]:
            upper[cp] = int(f[12], 16)
        if f[13]:
            lower[cp] = int(f[13], 16)
        if f[14]:
            title[cp] = int(f[14], 16)
    white_space = property_set("PropList.txt", "White_Space")
    cased = property_set("DerivedCoreProperties.txt", "Cased")
    case_ignorable = property_set("DerivedCoreProperties.txt", "Case_Ignorable")

    fold = {}
    for fields in data_lines("CaseFolding.txt"):
        if fields[1] in ("C", "S"):
            fold[int(fields[0], 16)] = int(fields[2], 16)
    ascii_fold = {c: t for c, t in fold.items() if c >= 0x80 and t < 0x80}

    # Unconditional SpecialCasing lowercase mappings that differ from the simple one (4 fields, no condition).
    lower_special = {}
    for fields in data_lines("SpecialCasing.txt"):
        if len(fields) >= 5 and fields[4] == "":
            cp = int(fields[0], 16)
            mapped = [int(x, 16) for x in fields[1].split()]
            if mapped != [lower.get(cp, cp)]:
                lower_special[cp] = mapped
    assert all(len(v) == 2 for v in lower_special.values()), lower_special

    word = letter | number | white_space
    not_symbol = set()
    for c in set(upper) | set(lower) | set(title) | set(fold):
        variants = {upper.get(c), lower.get(c), title.get(c), fold.get(c)} - {None}
        if c not in word and any(v in letter or v in number for v in variants):
            not_symbol.add(c)

    lower_pairs = {c: l for c, l in lower.items() if l != c}

    print("// GENERATED by scripts/gen_clip_unicode_tables.py from Debian's unicode-data "
          "(/usr/share/unicode). Do not edit.")
    print("// Sorted code-point ranges and mappings for the CLIP tokenizer; see unicode.h for what each one means.")
    print('#include "models/clip/unicode_tables.h"\n')
    print("namespace rave::models::unicode::tables {\n")
    emit_ranges("kLetter", letter)
    emit_ranges("kNumber", number)
    emit_ranges("kWhiteSpace", white_space)
    emit_ranges("kPythonSpace", python_space)
    emit_ranges("kCased", cased)
    emit_ranges("kCaseIgnorable", case_ignorable)
    emit_ranges("kNotSymbol", not_symbol)
    emit_pairs("kLower", lower_pairs)
    emit_pairs("kAsciiFold", ascii_fold)
    print("const SpecialLower kLowerSpecial[] = {")
    for c, (a, b) in sorted(lower_special.items()):
        print(f"    {{0x{c:04X}, 0x{a:04X}, 0x{b:04X}}},")
    print("};")
    print("const std::size_t kLowerSpecialSize = sizeof(kLowerSpecial) / sizeof(kLowerSpecial[0]);\n")
    print("}  // namespace rave::models::unicode::tables")


if __name__ == "__main__":
    main()
