#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks a program built from one file compiled for x86-64-v3 and one with default flags: every
function reachable by direct calls and jumps from the baseline file's entry is free of
instructions beyond the x86-64 baseline (VEX/EVEX-encoded ones, BMI), except the parser's AVX2
lanes, which run only after the processor was asked. The AVX2 file's entry must reach such
instructions, so the check is known to see them.

usage: check_baseline_code.py OBJDUMP PROGRAM BASELINE_ENTRY AVX2_ENTRY
"""
import bisect
import re
import subprocess
import sys

# Functions compiled for AVX2 on purpose, called only where has_avx2() said yes.
AVX2_LANES = ("plain_lines_avx2", "special_mask_avx2")
# x86 instructions whose mnemonic starts with v but that are not VEX-encoded.
NOT_VEX = {"verr", "verw", "vmcall", "vmclear", "vmlaunch", "vmptrld", "vmptrst", "vmread",
           "vmresume", "vmwrite", "vmxoff", "vmxon", "vmfunc", "vmrun", "vmload", "vmsave",
           "vmmcall"}
# BMI1/BMI2 and other post-baseline general-purpose instructions (tzcnt is left out: it runs as
# bsf on older processors, which GCC relies on for a nonzero operand).
BEYOND_BASELINE = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext",
                   "rorx", "sarx", "shlx", "shrx", "movbe", "popcnt", "lzcnt", "pshufb",
                   "ptest", "pcmpeqq", "pminud", "pmaxud", "pblendvb", "pcmpistri", "crc32"}

HEADER = re.compile(r"^(?P<address>[0-9a-f]+) <(?P<name>[^>]+)>:$")
INSN = re.compile(r"^\s*[0-9a-f]+:\s+(?P<mnemonic>[a-z][a-z0-9.]*)\s*(?P<operands>.*)$")
# A direct call or jump: its target address, then the symbol it falls in.
TARGET = re.compile(r"^(?P<address>[0-9a-f]+) <")
PREFIXES = ("rep", "repz", "repnz", "lock", "notrack", "bnd", "data16", "cs", "ds")


class Function:
    def __init__(self, address, name):
        self.address = address
        self.name = name
        self.instructions = []  # (mnemonic, operands)


def functions(objdump, program):
    """The program's functions by start address (local clones may share a name)."""
    text = subprocess.run([objdump, "-d", "-w", "--no-show-raw-insn", program], check=True,
                          capture_output=True, text=True).stdout
    by_address = {}
    current = None
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            current = Function(int(header.group("address"), 16), header.group("name"))
            by_address[current.address] = current
            continue
        insn = INSN.match(line)
        if current is not None and insn:
            mnemonic = insn.group("mnemonic")
            operands = insn.group("operands")
            if mnemonic in PREFIXES:  # the instruction is the next word
                parts = operands.split(None, 1)
                mnemonic = parts[0] if parts else mnemonic
                operands = parts[1] if len(parts) > 1 else ""
            current.instructions.append((mnemonic, operands))
    return by_address


def beyond_baseline(mnemonic, operands):
    if mnemonic.startswith("v") and mnemonic not in NOT_VEX:
        return True
    return mnemonic in BEYOND_BASELINE or "%ymm" in operands or "%zmm" in operands


def reach(by_address, entry):
    """Each function reachable from entry by direct call or jump, with its first instruction
    beyond the baseline or None; the AVX2 lanes and PLT stubs are not entered."""
    starts = sorted(by_address)
    seen = {}
    todo = [entry.address]
    while todo:
        address = todo.pop()
        if address in seen:
            continue
        function = by_address[address]
        if function.name.endswith("@plt") or any(lane in function.name for lane in AVX2_LANES):
            seen[address] = None
            continue
        bad = None
        for mnemonic, operands in function.instructions:
            if bad is None and beyond_baseline(mnemonic, operands):
                bad = f"{mnemonic} {operands}"
            if mnemonic.startswith(("call", "j")):
                target = TARGET.match(operands)  # indirect ones start with *
                if target:
                    at = int(target.group("address"), 16)
                    index = bisect.bisect_right(starts, at) - 1
                    if index >= 0 and starts[index] != address:
                        todo.append(starts[index])
        seen[address] = bad
    return {by_address[address]: bad for address, bad in seen.items()}


def demangle(name):
    try:
        return subprocess.run(["c++filt", name], check=True, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return name


def main():
    objdump, program, baseline_entry, avx2_entry = sys.argv[1:5]
    by_address = functions(objdump, program)
    entries = {}
    for entry in (baseline_entry, avx2_entry):
        found = [f for f in by_address.values() if f.name == entry]
        if len(found) != 1:
            print(f"no single function {entry} in {program}")
            return 1
        entries[entry] = found[0]
    baseline = reach(by_address, entries[baseline_entry])
    parser_functions = [f for f in baseline if "parser" in f.name]
    lanes = [f for f in baseline if any(lane in f.name for lane in AVX2_LANES)]
    print(f"{baseline_entry}: {len(baseline)} functions reached, {len(parser_functions)} of the "
          f"parser, {len(lanes)} AVX2 lanes behind the run-time check")
    failed = False
    if not parser_functions or not lanes:
        print("the baseline entry does not reach the parser's feed path and its AVX2 lane")
        failed = True
    for function, bad in sorted(baseline.items(), key=lambda item: item[0].name):
        if bad is not None:
            print(f"beyond the baseline: {demangle(function.name)}: {bad}")
            failed = True
    avx2 = reach(by_address, entries[avx2_entry])
    if all(bad is None for bad in avx2.values()):
        print(f"{avx2_entry} reaches no AVX2 instruction: the check cannot tell the files apart")
        failed = True
    # The parser's code reached from both entries is one copy, built for one of the two.
    shared = [f for f in baseline if "parser" in f.name and f in avx2]
    for function in shared:
        print(f"shared by both files: {demangle(function.name)}")
    failed = failed or bool(shared)
    print("FAILED" if failed else "ok: the baseline path runs no code built for AVX2")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
