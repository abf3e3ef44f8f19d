#!/usr/bin/env bash
# Which deflate compressor and level VmDebug's zlib kdump pages use: every non-zero 4 KiB page of an ELF vmcore's
# PT_LOAD segments compressed one page at a time, as kdump stores them, by libz at level 1 (what makedumpfile -c and
# QEMU kdump-zlib write: compress2 with Z_BEST_SPEED, a fresh stream per page) and by libdeflate at levels 1-4.
# Prints total stored bytes (a page that does not shrink is stored raw) and CPU seconds per compressor, each the
# minimum of 3 runs (CPU time, so a loaded machine inflates it less than wall time).
# Usage: bench/zlib-levels.sh VMCORE.elf   (bench/dump-levels.sh makes a realistic one; keep it with KEEP_ELF=PATH)
set -euo pipefail
[[ $# -eq 1 && -r $1 ]] || { echo "usage: $0 VMCORE.elf" >&2; exit 2; }
exec python3 - "$1" <<'PY'
import ctypes, mmap, struct, sys, time
zlib = ctypes.CDLL("libz.so.1")
deflate = ctypes.CDLL("libdeflate.so.0")
deflate.libdeflate_alloc_compressor.restype = ctypes.c_void_p
deflate.libdeflate_zlib_compress.restype = ctypes.c_size_t
deflate.libdeflate_zlib_compress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
zlib.compress2.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong), ctypes.c_char_p, ctypes.c_ulong, ctypes.c_int]
PAGE = 4096
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    phoff, = struct.unpack_from("<Q", m, 32)
    phnum, = struct.unpack_from("<H", m, 56)
    zero = bytes(PAGE)
    pages = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", m, phoff + 56 * i)
        if p_type != 1:
            continue
        for at in range(p_offset, p_offset + p_filesz - PAGE + 1, PAGE):
            if m[at:at + PAGE] != zero:
                pages.append(at)
out = ctypes.create_string_buffer(2 * PAGE)
def libz(page):
    length = ctypes.c_ulong(len(out))
    zlib.compress2(out, ctypes.byref(length), page, PAGE, 1)
    return length.value
def libdeflate(level):
    c = deflate.libdeflate_alloc_compressor(level)
    return lambda page: deflate.libdeflate_zlib_compress(c, page, PAGE, out, len(out))
def nothing(page):
    return PAGE
def measure(compress):
    best = None
    for _ in range(3):
        start = time.process_time()
        stored = sum(min(compress(m[at:at + PAGE]), PAGE) for at in pages)
        seconds = time.process_time() - start
        best = seconds if best is None else min(best, seconds)
    return stored, best
_, overhead = measure(nothing)  # the Python loop itself, subtracted from each figure
base, base_cpu = measure(libz)
print(f"{len(pages)} non-zero pages of {sys.argv[1]}; CPU seconds exclude the {overhead:.2f} s the loop itself takes")
print("| Compressor | Stored bytes | Size vs libz -1 | CPU | CPU vs libz -1 |")
print("| --- | --- | --- | --- | --- |")
print(f"| libz level 1 (makedumpfile -c) | {base:,} | 1.000 | {base_cpu - overhead:.2f} s | 1.00 |")
for level in (1, 2, 3, 4):
    stored, cpu = measure(libdeflate(level))
    print(f"| libdeflate level {level} | {stored:,} | {stored / base:.3f} | {cpu - overhead:.2f} s | {(cpu - overhead) / (base_cpu - overhead):.2f} |")
PY
